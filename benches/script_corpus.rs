//! A corpus of generated Lua scripts of realistic shape and size, shared by the benches.

/// Deterministic sizes between 50 and 2,000 lines, skewed towards small files as real projects
/// are (mean about 700 lines).
pub fn line_counts(count: usize) -> Vec<usize> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            50 + (1_950.0 * u * u) as usize
        })
        .collect()
}

/// A script of about `lines` lines: a module of functions with loops, branches, tables,
/// closures and string building, the way gameplay scripts look.
pub fn script(index: usize, lines: usize) -> String {
    let mut out = String::with_capacity(lines * 40);
    out.push_str("local M = {}\nlocal floor, sqrt, max = math.floor, math.sqrt, math.max\n");
    out.push_str(&format!(
        "local CONFIG = {{ speed = {}, name = \"unit_{index}\", tags = {{ \"a\", \"b\", \"c\" }} }}\n",
        100 + index % 50
    ));
    let mut written = 3;
    let mut block = 0;
    while written + 16 < lines {
        out.push_str(&format!(
            "\nfunction M.update_{block}(self, delta)\n\
             \x20 local total, names = 0, {{}}\n\
             \x20 for i = 1, {n} do\n\
             \x20   total = total + floor(i * delta * CONFIG.speed)\n\
             \x20   names[#names + 1] = CONFIG.name .. \"_\" .. i\n\
             \x20 end\n\
             \x20 if total > {limit} and self.hp ~= nil then\n\
             \x20   self.state = \"running\"\n\
             \x20   self.speed = max(self.speed or 0, sqrt(total))\n\
             \x20 elseif #names > 3 then\n\
             \x20   self.state = (\"idle_\" .. {block})\n\
             \x20 end\n\
             \x20 local on_done = function(x) return x + total end\n\
             \x20 return on_done(total), table.concat(names, \",\")\n\
             end\n",
            n = 5 + block % 7,
            limit = 1_000 + block * 13,
        ));
        written += 16;
        block += 1;
    }
    while written + 1 < lines {
        out.push_str(&format!("M.k{written} = {written}\n"));
        written += 1;
    }
    out.push_str("return M\n");
    out
}
