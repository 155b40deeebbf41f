//! Students' names as the class sees them: trimmed, visible, one per student, never a word the
//! pages and logs use for someone else, and never text that reorders or hides what is around it.

use super::classroom::Refusal;

/// The longest name, in characters.
pub const MAX_NAME: usize = 40;

/// Names the pages and the logs use for others (compared without case).
pub const RESERVED: [&str; 5] = ["teacher", "the teacher", "model", "the model", "nobody"];

/// A character that shows nothing, or changes how the text around it is shown: controls, the
/// bidirectional overrides, embeddings, isolates and marks, zero-width characters and joiners,
/// the byte-order mark, the soft hyphen, invisible fillers and tags.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The name `given` as the class will show it (trimmed), or why it cannot be: empty or too
/// long, an invisible character (by its code point, so the student can find it), a reserved
/// word, or the name of a student already in `taken` (without case).
pub fn check<'a>(given: &str, mut taken: impl Iterator<Item = &'a str>) -> Result<String, Refusal> {
    let name = given.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Refusal(format!("a name is 1 to {MAX_NAME} characters")));
    }
    if let Some(c) = name.chars().find(|&c| invisible(c)) {
        return Err(Refusal(format!(
            "a name holds only characters that show: U+{:04X} is invisible or reorders the text around it",
            c as u32
        )));
    }
    let lower = name.to_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return Err(Refusal(format!(
            "`{name}` is a word the class uses for someone else: choose another name"
        )));
    }
    if taken.any(|t| t.to_lowercase() == lower) {
        return Err(Refusal(format!(
            "a student of this class is already called `{name}`: add an initial"
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_visible_unique_and_not_reserved() {
        let none = std::iter::empty();
        assert_eq!(check("  Ann ", none).expect("a name"), "Ann");
        assert_eq!(
            check("县 🙂 ❤️", std::iter::empty()).expect("emoji with a variation selector"),
            "县 🙂 ❤️"
        );
        assert!(check("Ann", ["ann"].into_iter()).is_err(), "the same name without case");
        assert!(check("Ann", ["Bo"].into_iter()).is_ok());
        for bad in ["", "   ", "Teacher", "THE MODEL", "nobody"] {
            assert!(check(bad, std::iter::empty()).is_err(), "{bad:?}");
        }
        for bad in [
            "A\u{202E}nn",
            "A\u{2066}nn",
            "An\u{200B}n",
            "\u{FEFF}Ann",
            "Ann\u{200D}",
            "A\u{00AD}nn",
            "A\u{E0041}nn",
            "A\tnn",
            "A\u{7}nn",
        ] {
            let e = check(bad, std::iter::empty()).expect_err(bad);
            assert!(e.0.contains("U+"), "{e:?}");
        }
        assert!(check(&"x".repeat(MAX_NAME), std::iter::empty()).is_ok());
        assert!(check(&"x".repeat(MAX_NAME + 1), std::iter::empty()).is_err());
    }
}
