//! Text from outside (event fields, names, values in a baseline) as it is shown to people: control characters
//! escaped, so nothing a message quotes can move a terminal's cursor or fake a line of output, and long values cut.

/// `text` with control characters escaped (`\n`, `\u{1b}`) and, past `max` characters, cut with `...`.
pub fn shown(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_add(3)));
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push_str("...");
            break;
        }
        match c.is_control() {
            true => out.extend(c.escape_debug()),
            false => out.push(c),
        }
    }
    out
}

/// `text` with control characters escaped, whatever its length.
pub fn escaped(text: &str) -> String {
    shown(text, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_text_cut() {
        assert_eq!(escaped("app\u{1b}[2J\nx"), "app\\u{1b}[2J\\nx");
        assert_eq!(shown("abcdef", 3), "abc...");
        assert_eq!(shown("abc", 3), "abc");
        assert_eq!(escaped("équipe/ünïcode"), "équipe/ünïcode");
    }
}
