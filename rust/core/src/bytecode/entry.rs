//! The on-disk form of a cache entry, and the checks that decide whether one may run.
//!
//! ```text
//! magic "GLRB" | format u16 | flags u8 | 0 u8 | compile_us u32 | source hash u128 |
//! tag length u16 | path length u16 | bytecode length u32 |
//! tag | path | bytecode | checksum u64 (xxh3 of every byte before it)
//! ```
//!
//! All integers are little-endian. The checksum covers the header as well as the bytecode, so
//! any flipped bit is caught; lengths are checked against the file size, so a truncated or
//! padded file is caught before the checksum is even computed. Lua does not verify bytecode
//! and bad bytecode can crash the VM, so nothing that fails these checks is ever loaded.

use std::fmt;

use super::{Bytecode, SourceHash};

/// First bytes of every entry.
pub const MAGIC: &[u8; 4] = b"GLRB";
/// Bumped whenever the layout or what the bytecode expects changes (2: compiled from source
/// instrumented for the time budget); entries of another format are rejected.
pub const FORMAT_VERSION: u16 = 2;

const FLAG_STRIPPED: u8 = 1;
const FIXED_HEADER: usize = 4 + 2 + 1 + 1 + 4 + 16 + 2 + 2 + 4;
const CHECKSUM: usize = 8;

/// Why a stored entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// A zero-length file.
    Empty,
    /// Shorter (or longer) than its header says: an interrupted write or a damaged file.
    Truncated,
    /// Not a cache entry at all.
    BadMagic,
    /// Written by another version of the runtime with another layout.
    UnsupportedFormat,
    /// The bytes do not match their checksum: a flipped bit somewhere.
    Checksum,
    /// Bytecode of another Lua flavour or version, or with other strip settings.
    ForeignFlavour,
    /// The entry belongs to another script (a file-name collision).
    OtherScript,
    /// Bytecode of an older version of the source.
    Stale,
    /// Passed every check, yet Lua refused to load it.
    Unloadable,
}

impl Reject {
    /// Every reason, in the order statistics list them.
    pub const ALL: [Reject; 9] = [
        Reject::Empty,
        Reject::Truncated,
        Reject::BadMagic,
        Reject::UnsupportedFormat,
        Reject::Checksum,
        Reject::ForeignFlavour,
        Reject::OtherScript,
        Reject::Stale,
        Reject::Unloadable,
    ];

    /// The name statistics use.
    pub fn name(self) -> &'static str {
        match self {
            Reject::Empty => "empty",
            Reject::Truncated => "truncated",
            Reject::BadMagic => "bad_magic",
            Reject::UnsupportedFormat => "unsupported_format",
            Reject::Checksum => "checksum",
            Reject::ForeignFlavour => "foreign_flavour",
            Reject::OtherScript => "other_script",
            Reject::Stale => "stale",
            Reject::Unloadable => "unloadable",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the reader expects of an entry.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The script path the entry must be for.
    pub path: &'a str,
    /// The flavour tag of the running Lua ([`super::flavour_tag`]).
    pub tag: &'a str,
    /// Whether debug information must be stripped.
    pub stripped: bool,
    /// The hash of the current source; `None` when the source is not shipped (an export that
    /// strips it) and the entry itself is the only version there is.
    pub source_hash: Option<SourceHash>,
}

/// The bytes of an entry for `bytecode`.
pub fn encode(bytecode: &Bytecode, tag: &str, stripped: bool) -> Vec<u8> {
    let tag = truncated_to_u16(tag.as_bytes());
    let path = truncated_to_u16(bytecode.path.as_bytes());
    let code = &bytecode.bytes;
    let mut out = Vec::with_capacity(FIXED_HEADER + tag.len() + path.len() + code.len() + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(if stripped { FLAG_STRIPPED } else { 0 });
    out.push(0);
    out.extend_from_slice(&bytecode.compile_us.to_le_bytes());
    out.extend_from_slice(&bytecode.source_hash.0.to_le_bytes());
    out.extend_from_slice(&(tag.len() as u16).to_le_bytes());
    out.extend_from_slice(&(path.len() as u16).to_le_bytes());
    out.extend_from_slice(&u32::try_from(code.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(path);
    out.extend_from_slice(code);
    let checksum = xxhash_rust::xxh3::xxh3_64(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Reads an entry, or says why it must not be used.
///
/// # Errors
/// A [`Reject`] naming the first check the bytes fail.
pub fn decode(bytes: &[u8], expect: Expect<'_>) -> Result<Bytecode, Reject> {
    if bytes.is_empty() {
        return Err(Reject::Empty);
    }
    if bytes.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(bytes) {
            Reject::Truncated
        } else {
            Reject::BadMagic
        });
    }
    if &bytes[..4] != MAGIC {
        return Err(Reject::BadMagic);
    }
    if bytes.len() < FIXED_HEADER + CHECKSUM {
        return Err(Reject::Truncated);
    }
    let mut reader = Reader { bytes, at: 4 };
    if reader.u16() != FORMAT_VERSION {
        return Err(Reject::UnsupportedFormat);
    }
    let flags = reader.u8();
    let _reserved = reader.u8();
    let compile_us = reader.u32();
    let source_hash = SourceHash(reader.u128());
    let tag_len = usize::from(reader.u16());
    let path_len = usize::from(reader.u16());
    let code_len = reader.u32() as usize;
    let expected_len = FIXED_HEADER + tag_len + path_len + code_len + CHECKSUM;
    if bytes.len() != expected_len {
        return Err(Reject::Truncated);
    }
    let body = &bytes[..bytes.len() - CHECKSUM];
    let mut stored = [0u8; CHECKSUM];
    stored.copy_from_slice(&bytes[bytes.len() - CHECKSUM..]);
    if xxhash_rust::xxh3::xxh3_64(body) != u64::from_le_bytes(stored) {
        return Err(Reject::Checksum);
    }
    let tag = reader.take(tag_len);
    let path = reader.take(path_len);
    let code = reader.take(code_len);
    if tag != expect.tag.as_bytes() || (flags & FLAG_STRIPPED != 0) != expect.stripped {
        return Err(Reject::ForeignFlavour);
    }
    if path != expect.path.as_bytes() {
        return Err(Reject::OtherScript);
    }
    if expect.source_hash.is_some_and(|h| h != source_hash) {
        return Err(Reject::Stale);
    }
    Ok(Bytecode {
        path: expect.path.to_owned(),
        source_hash,
        bytes: code.to_vec(),
        compile_us,
    })
}

fn truncated_to_u16(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(usize::from(u16::MAX))]
}

/// Reads fixed-size fields from a slice whose length was checked first.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N));
        out
    }

    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    fn u128(&mut self) -> u128 {
        u128::from_le_bytes(self.array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bytecode {
        Bytecode {
            path: "res://a.lua".to_owned(),
            source_hash: SourceHash::of("return {}"),
            bytes: (0..200u8).collect(),
            compile_us: 42,
        }
    }

    fn expect(source: &str) -> Expect<'static> {
        Expect {
            path: "res://a.lua",
            tag: "test-tag",
            stripped: false,
            source_hash: Some(SourceHash::of(source)),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(&sample(), "test-tag", false);
        assert_eq!(decode(&bytes, expect("return {}")), Ok(sample()));
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let bytes = encode(&sample(), "test-tag", false);
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(
                decode(&damaged, expect("return {}")).is_err(),
                "flipping bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = encode(&sample(), "test-tag", false);
        for len in 0..bytes.len() {
            let got = decode(&bytes[..len], expect("return {}"));
            assert!(got.is_err(), "a {len}-byte prefix was accepted");
        }
        assert_eq!(decode(&[], expect("return {}")), Err(Reject::Empty));
    }

    #[test]
    fn names_the_reason() {
        let bytes = encode(&sample(), "test-tag", false);
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(decode(&magic, expect("return {}")), Err(Reject::BadMagic));
        assert_eq!(decode(&bytes, expect("return {1}")), Err(Reject::Stale));
        let other = encode(&sample(), "other-tag", false);
        assert_eq!(
            decode(&other, expect("return {}")),
            Err(Reject::ForeignFlavour)
        );
        let stripped = encode(&sample(), "test-tag", true);
        assert_eq!(
            decode(&stripped, expect("return {}")),
            Err(Reject::ForeignFlavour)
        );
        let mut elsewhere = expect("return {}");
        elsewhere.path = "res://b.lua";
        assert_eq!(decode(&bytes, elsewhere), Err(Reject::OtherScript));
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(decode(&padded, expect("return {}")), Err(Reject::Truncated));
    }

    #[test]
    fn accepts_any_source_when_none_is_shipped() {
        let bytes = encode(&sample(), "test-tag", false);
        let mut shipped = expect("whatever");
        shipped.source_hash = None;
        assert_eq!(decode(&bytes, shipped), Ok(sample()));
    }
}
