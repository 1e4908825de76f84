//! Where in a TOML baseline a problem is: a problem names its key (`rules[1].scanning.frequency: ...`), and
//! this finds that key in the text, or the deepest part of it the file has (a default the file doesn't set
//! is found at its section), as a line and column.

use toml::de::{DeTable, DeValue};

use crate::section::{Position, Problem};

/// Each problem with the line and column of the key it names in `text`, where it can be found (shown as
/// `line 12, column 1: rules[0].scanning.frequency: ...`). The text is parsed once for all of them; a text
/// that isn't TOML leaves the problems as they are.
pub(super) fn with_positions(text: &str, problems: Vec<Problem>) -> Vec<Problem> {
    let Ok(document) = DeTable::parse(text) else { return problems };
    let with_position = |problem: Problem| {
        let position = locate(document.get_ref(), text, &problem.path);
        Problem { position: position.or(problem.position), ..problem }
    };
    problems.into_iter().map(with_position).collect()
}

/// The position in `text` (parsed as `document`) of the key `path` (`a.b[2].c`), or of the deepest part of it
/// the document has.
fn locate(document: &DeTable<'_>, text: &str, path: &str) -> Option<Position> {
    let mut table = document;
    let mut found: Option<std::ops::Range<usize>> = None;
    let mut steps = segments(path).into_iter().peekable();
    while let Some(Segment { key, index }) = steps.next() {
        let Some((name, value)) = table.iter().find(|(name, _)| name.get_ref() == key) else { break };
        found = Some(name.span());
        let value = match (index, value.get_ref()) {
            (None, _) => value,
            (Some(index), DeValue::Array(items)) => match items.get(index) {
                Some(item) => {
                    found = Some(item.span());
                    item
                }
                None => break,
            },
            (Some(_), _) => break,
        };
        match value.get_ref() {
            DeValue::Table(inner) if steps.peek().is_some() => table = inner,
            _ => break,
        }
    }
    found.map(|span| position(text, span.start))
}

/// One step of a key path: a key, and an index where the key holds an array.
struct Segment<'p> {
    key: &'p str,
    index: Option<usize>,
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    path.split('.')
        .map(|part| match part.split_once('[') {
            Some((key, rest)) => Segment { key, index: rest.trim_end_matches(']').parse().ok() },
            None => Segment { key: part, index: None },
        })
        .collect()
}

fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    Position { line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate_in(text: &str, path: &str) -> Option<Position> {
        let document = DeTable::parse(text).expect("TOML");
        locate(document.get_ref(), text, path)
    }

    const TEXT: &str = r#"[defaults]
tag_mutability = { mode = "enforce" }

[defaults.scanning]
frequency = "MANUAL"

[[rules]]
repositories = ["a/*"]

[[rules]]
repositories = ["b/*"]
tags = { required = { team = { default = "x", allowed = ["y"] } } }
"#;

    #[test]
    fn a_key_is_found_where_it_is_written() {
        assert_eq!(locate_in(TEXT, "defaults.scanning.frequency"), Some(Position { line: 5, column: 1 }));
        assert_eq!(locate_in(TEXT, "rules[1].tags.required.team.default"), Some(Position { line: 12, column: 32 }));
    }

    #[test]
    fn a_key_the_file_lacks_is_found_at_its_deepest_present_part() {
        assert_eq!(locate_in(TEXT, "defaults.lifecycle_policy.policy"), Some(Position { line: 1, column: 2 }));
        assert_eq!(locate_in(TEXT, "rules[1].scanning.frequency").map(|p| p.line), Some(10));
        assert_eq!(locate_in(TEXT, "exemptions.tag_key"), None);
    }

    #[test]
    fn the_position_goes_in_front_of_the_problem() {
        let problem =
            Problem::new("defaults.scanning.frequency", "must be SCAN_ON_PUSH or CONTINUOUS_SCAN, not MANUAL");
        let elsewhere = Problem::new("exemptions.tag_key", "must not be empty");
        let shown: Vec<String> =
            with_positions(TEXT, vec![problem.clone(), elsewhere.clone()]).iter().map(ToString::to_string).collect();
        assert_eq!(shown, [format!("line 5, column 1: {problem}"), elsewhere.to_string()]);
        assert_eq!(with_positions("not = [toml", vec![elsewhere.clone()]), [elsewhere], "not TOML: left as it is");
    }
}
