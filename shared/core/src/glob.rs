//! Repository-name globs used by baseline rules and exemptions.
//!
//! `*` matches within one path segment (`team-a/*` matches `team-a/api` but not `team-a/x/api`), `**`
//! matches across segments (`prod/**` matches everything under `prod/`), `?` one character, `[..]` a class.
//! A glob without wildcards is an exact name.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use regex_automata::dfa::dense::DFA;
use regex_automata::dfa::Automaton;
use regex_automata::{Anchored, Input};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated glob over repository names.
#[derive(Clone)]
pub struct NameGlob {
    text: String,
    matcher: globset::GlobMatcher,
}

impl NameGlob {
    /// Compiles `text`, or explains why it is not a valid glob.
    pub fn new(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("a glob must not be empty".to_string());
        }
        let glob = globset::GlobBuilder::new(text)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid glob `{text}`: {}", e.kind()))?;
        Ok(Self { text: text.to_string(), matcher: glob.compile_matcher() })
    }

    /// Whether the repository `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A repository name both globs match, if there is one: the shortest, found by walking the two globs'
    /// DFAs together over the characters repository names are made of.
    pub fn common_name(&self, other: &NameGlob) -> Option<String> {
        common_match(self.regex(), other.regex())
    }

    /// The byte regex (`(?-u)^...$`) the glob compiles to.
    pub fn regex(&self) -> &str {
        self.matcher.glob().regex()
    }
}

/// The shortest valid repository name two whole-name byte regexes both match, if there is one: found by
/// walking their DFAs, and that of ECR's repository-name pattern, together over the characters repository
/// names are made of.
pub fn common_match(a: &str, b: &str) -> Option<String> {
    let dfas = [dfa(a)?, dfa(b)?, dfa(REPOSITORY_NAME)?];
    let mut start = Vec::with_capacity(dfas.len());
    for dfa in &dfas {
        start.push(dfa.start_state_forward(&Input::new("").anchored(Anchored::Yes)).ok()?);
    }
    let mut seen = HashMap::from([(start.clone(), None)]);
    let mut queue = VecDeque::from([start]);
    while let Some(states) = queue.pop_front() {
        if dfas.iter().zip(&states).all(|(dfa, &state)| dfa.is_match_state(dfa.next_eoi_state(state))) {
            let mut name = Vec::new();
            let mut at = &states;
            while let Some(Some((previous, byte))) = seen.get(at) {
                name.push(*byte);
                at = previous;
            }
            name.reverse();
            return String::from_utf8(name).ok();
        }
        for &byte in NAME_BYTES {
            let next: Vec<_> = dfas.iter().zip(&states).map(|(dfa, &state)| dfa.next_state(state, byte)).collect();
            if dfas.iter().zip(&next).any(|(dfa, &state)| dfa.is_dead_state(state)) || seen.contains_key(&next) {
                continue;
            }
            seen.insert(next.clone(), Some((states.clone(), byte)));
            queue.push_back(next);
        }
    }
    None
}

/// ECR's repository-name pattern (API reference, `CreateRepository`: `repositoryName`), as a whole-name
/// byte regex.
const REPOSITORY_NAME: &str =
    r"(?-u)^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$";

fn dfa(regex: &str) -> Option<DFA<Vec<u32>>> {
    // globset's regexes match bytes (`(?-u)`), which may not be UTF-8.
    DFA::builder()
        .syntax(regex_automata::util::syntax::Config::new().utf8(false))
        .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
        .build(regex)
        .ok()
}

/// The bytes repository names are made of.
const NAME_BYTES: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789._-/";

impl fmt::Debug for NameGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameGlob({:?})", self.text)
    }
}

impl Eq for NameGlob {}

impl PartialEq for NameGlob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Serialize for NameGlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl schemars::JsonSchema for NameGlob {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NameGlob".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "A repository-name glob: `*` within one path segment, `**` across segments, `?` one character, `[..]` a class."
        })
    }
}

impl<'de> Deserialize<'de> for NameGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NameGlob::new(&text).map_err(serde::de::Error::custom)
    }
}

/// Whether any of `globs` matches `name`; an empty list matches everything.
pub fn any_matches(globs: &[NameGlob], name: &str) -> bool {
    globs.is_empty() || globs.iter().any(|g| g.matches(name))
}

/// A value written either alone or as a list.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list of values.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> NameGlob {
        NameGlob::new(text).expect("test glob is valid")
    }

    #[test]
    fn single_star_stays_within_one_segment() {
        assert!(glob("team-a/*").matches("team-a/api"));
        assert!(!glob("team-a/*").matches("team-a/x/api"));
        assert!(!glob("team-a/*").matches("team-b/api"));
    }

    #[test]
    fn double_star_crosses_segments() {
        assert!(glob("prod/**").matches("prod/api"));
        assert!(glob("prod/**").matches("prod/eu/api"));
        assert!(!glob("prod/**").matches("staging/api"));
        assert!(glob("**").matches("a/b/c"));
    }

    #[test]
    fn exact_names_match_only_themselves() {
        assert!(glob("billing").matches("billing"));
        assert!(!glob("billing").matches("billing-v2"));
    }

    #[test]
    fn a_name_both_globs_match_is_found_when_there_is_one() {
        let both = |a: &str, b: &str| glob(a).common_name(&glob(b));
        assert_eq!(both("team-a/*", "*/api"), Some("team-a/api".to_string()));
        assert_eq!(both("prod/**", "**/web"), Some("prod/web".to_string()));
        let name = both("team-[ab]/*", "team-b/{api,web}").expect("they overlap");
        assert!(glob("team-[ab]/*").matches(&name) && glob("team-b/{api,web}").matches(&name), "{name}");
        assert_eq!(both("team-[ab]/*", "team-c/*"), None);
        assert_eq!(both("*-prod", "*-dev"), None);
        assert_eq!(both("team-a/*", "team-a/x/*"), None, "`*` stays within a segment");
        assert_eq!(both("billing", "billing"), Some("billing".to_string()));
    }

    #[test]
    fn invalid_globs_are_rejected_with_a_reason() {
        let err = NameGlob::new("team-[a").expect_err("unclosed class");
        assert!(err.contains("team-[a"), "{err}");
        assert!(NameGlob::new("").is_err());
    }
}
