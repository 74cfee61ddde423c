//! Reading script source through Godot, so `res://` works in the editor, in a running game
//! and inside an exported pack alike; and the bytecode an exported game ships.

use godot::classes::FileAccess;
use godot::classes::file_access::ModeFlags;
use lua_runtime_core::Error;
use lua_runtime_core::bytecode::{Fingerprint, entry_name};

/// Where exported games carry precompiled bytecode (the export plugin writes it there).
pub const SHIPPED_DIR: &str = "res://.godot/lua_bytecode";

/// The text of the script at `path`.
///
/// # Errors
/// [`Error::ScriptNotFound`] when there is no such file, [`Error::ScriptUnreadable`] when
/// Godot cannot open it.
pub fn read(path: &str) -> Result<String, Error> {
    read_with_fingerprint(path).map(|(source, _)| source)
}

/// The text of the script at `path`, with its size and modification time.
///
/// # Errors
/// As [`read`].
pub fn read_with_fingerprint(path: &str) -> Result<(String, Fingerprint), Error> {
    if !FileAccess::file_exists(path) {
        return Err(Error::ScriptNotFound {
            path: path.to_owned(),
        });
    }
    let Some(mut file) = FileAccess::open(path, ModeFlags::READ) else {
        return Err(Error::ScriptUnreadable {
            path: path.to_owned(),
            reason: format!("{:?}", FileAccess::get_open_error()),
        });
    };
    let size = file.get_length();
    let fingerprint = Fingerprint {
        size,
        modified: FileAccess::get_modified_time(path),
    };
    // Raw bytes and one UTF-8 check: much cheaper than Godot's String round trip for
    // large scripts.
    let bytes = file
        .get_buffer(i64::try_from(size).unwrap_or(i64::MAX))
        .to_vec();
    let mut text = String::from_utf8(bytes).map_err(|e| Error::ScriptUnreadable {
        path: path.to_owned(),
        reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    // A byte-order mark is not Lua.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok((text, fingerprint))
}

/// Where the shipped bytecode of `path` lives in an exported game.
pub fn shipped_path(path: &str, strip: bool) -> String {
    format!("{SHIPPED_DIR}/{}", entry_name(path, strip))
}

/// Whether the game carries shipped bytecode for `path`.
pub fn has_shipped(path: &str, strip: bool) -> bool {
    FileAccess::file_exists(&shipped_path(path, strip))
}

/// The shipped bytecode entry of `path`, if the game carries one.
pub fn read_shipped(path: &str, strip: bool) -> Option<Vec<u8>> {
    let shipped = shipped_path(path, strip);
    if !FileAccess::file_exists(&shipped) {
        return None;
    }
    Some(FileAccess::get_file_as_bytes(&shipped).to_vec())
}
