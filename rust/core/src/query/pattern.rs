//! Node-name patterns, matched the way Godot's `String.match` does: `*` matches any run of
//! characters (the empty one too), `?` any one character, everything else itself, case
//! included.

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with one backtrack point: linear in practice, and never
    // worse than |pattern| * |name|, whatever the pattern.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether `pattern` matches every name (`*`, `**`, or empty).
pub fn matches_all(pattern: &str) -> bool {
    pattern.chars().all(|c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_names_match_only_themselves() {
        assert!(matches("Enemy", "Enemy"));
        assert!(!matches("Enemy", "enemy"));
        assert!(!matches("Enemy", "Enemy2"));
        assert!(!matches("Enemy2", "Enemy"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(matches("Enemy*", "Enemy"));
        assert!(matches("Enemy*", "Enemy12"));
        assert!(matches("*Enemy", "BigEnemy"));
        assert!(matches("*em*", "Enemy"));
        assert!(matches("*", ""));
        assert!(matches("E*y*", "EnemyX"));
        assert!(!matches("Enemy*", "Ene"));
        assert!(!matches("*x", "Enemy"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(matches("Enemy?", "Enemy1"));
        assert!(!matches("Enemy?", "Enemy"));
        assert!(!matches("Enemy?", "Enemy12"));
        assert!(matches("??", "é1"), "one character, not one byte");
    }

    #[test]
    fn backtracking_finds_the_later_match() {
        assert!(matches("*ab", "aab"));
        assert!(matches("a*b*c", "axxbyybzc"));
        assert!(!matches("a*b*c", "axxbyyb"));
        assert!(matches("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaab"));
    }

    #[test]
    fn match_all_patterns_are_recognised() {
        assert!(matches_all("*"));
        assert!(matches_all(""));
        assert!(!matches_all("E*"));
    }
}
