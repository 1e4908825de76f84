//! Which repositories are left alone, and whether each exemption is accounted for.
//!
//! An exemption is *listed* when the baseline names the repository: an `[[exemptions.granted]]` entry (its
//! globs, an owner, a reason and an expiry date) or, permanently, `exemptions.repositories`. A grant holds through
//! its `expires` date (UTC) and ends the day after: the repository is governed again, the report says which
//! grant ended, and the exempt tag no longer exempts it (a tag can't extend what the baseline ended). A
//! repository carrying the exempt tag that no grant or name covers is still left alone (teams may opt out without
//! a baseline change) but is *unlisted*: reported in every run and audit as a finding until it is listed or the
//! tag removed.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::glob::NameGlob;
use crate::section::Problem;
use crate::vulnerabilities::Date;

/// The longest owner a grant may name.
const MAX_OWNER: usize = 256;
/// The longest reason a grant may give.
const MAX_REASON: usize = 1024;

/// One listed exemption: which repositories, who asked, why, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Repository-name globs the exemption covers.
    pub repositories: Vec<NameGlob>,
    /// Who answers for it (a team, a person).
    pub owner: String,
    /// Why the repositories are left alone (a ticket, a plan).
    pub reason: String,
    /// The last day (UTC) it holds; the next day the repositories are governed again.
    pub expires: Date,
}

impl Grant {
    fn covers(&self, name: &str) -> bool {
        self.repositories.iter().any(|glob| glob.matches(name))
    }

    fn globs(&self) -> String {
        let globs: Vec<String> = self.repositories.iter().map(|glob| format!("`{}`", glob.as_str())).collect();
        globs.join(", ")
    }

    /// `for `legacy/**` (owner team-x: reason)`.
    fn described(&self) -> String {
        format!("for {} (owner {}: {})", self.globs(), self.owner, self.reason)
    }

    /// What is wrong with the grant at `key` (`exemptions.granted[0]`), if anything.
    pub(crate) fn problems(&self, key: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.repositories.is_empty() {
            problems.push(Problem::new(format!("{key}.repositories"), "must name at least one glob"));
        }
        for (field, text, limit) in [("owner", &self.owner, MAX_OWNER), ("reason", &self.reason, MAX_REASON)] {
            let length = text.trim().chars().count();
            if length == 0 || length > limit {
                problems.push(Problem::new(format!("{key}.{field}"), format!("must be 1 to {limit} characters")));
            }
        }
        problems
    }
}

/// Which repositories are left alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemptions {
    /// Tag key marking a repository exempt.
    pub tag_key: String,
    /// Tag value marking a repository exempt.
    pub tag_value: String,
    /// Repository-name globs exempt for good.
    pub repositories: Vec<NameGlob>,
    /// Listed exemptions with an owner, a reason and an expiry date.
    pub granted: Vec<Grant>,
    /// Exempt accounts (organization mode).
    pub accounts: Vec<String>,
}

/// Where a repository's exemption stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExemptionState {
    /// Exempt: the baseline lists it (a grant in force, or `exemptions.repositories`).
    Listed,
    /// Exempt by the tag alone: nobody listed it (a finding).
    Unlisted,
    /// A grant covering it ended: governed again.
    Expired,
}

/// A repository's exemption, as its report gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionNote {
    /// Where it stands.
    pub state: ExemptionState,
    /// One line for people.
    pub text: String,
    /// The grant concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

impl Exemptions {
    /// Whether `tags` carry the exempt tag.
    pub fn tagged(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(&self.tag_key) == Some(&self.tag_value)
    }

    /// The grant in force on `today` covering `name`, if any.
    pub fn grant_for(&self, name: &str, today: Date) -> Option<&Grant> {
        self.granted.iter().find(|grant| today <= grant.expires && grant.covers(name))
    }

    /// Why `name` is exempt whatever its tags, on `today`: a grant in force or `exemptions.repositories`.
    pub fn by_name(&self, name: &str, today: Date) -> Option<ExemptionNote> {
        if let Some(grant) = self.grant_for(name, today) {
            let text = format!("listed {} until {}", grant.described(), grant.expires);
            return Some(ExemptionNote { state: ExemptionState::Listed, text, grant: Some(grant.clone()) });
        }
        let glob = self.repositories.iter().find(|glob| glob.matches(name))?;
        let text = format!("name matches exemption `{}`", glob.as_str());
        Some(ExemptionNote { state: ExemptionState::Listed, text, grant: None })
    }

    /// Why `name` is exempt by its `tags` alone, on `today` (when [`Exemptions::by_name`] found nothing): the
    /// exempt tag, unlisted; none when a grant covering it has ended.
    pub fn by_tags(&self, name: &str, tags: &BTreeMap<String, String>, today: Date) -> Option<ExemptionNote> {
        if !self.tagged(tags) || self.ended(name, today).is_some() {
            return None;
        }
        let text = format!(
            "tagged {}={} but not listed in the baseline's exemptions: list it under [[exemptions.granted]] with an \
             owner, a reason and an expiry date, or remove the tag",
            self.tag_key, self.tag_value
        );
        Some(ExemptionNote { state: ExemptionState::Unlisted, text, grant: None })
    }

    /// The grant that ended for `name` by `today`, when nothing else exempts it: it is governed again.
    pub fn expired(&self, name: &str, tags: &BTreeMap<String, String>, today: Date) -> Option<ExemptionNote> {
        if self.by_name(name, today).is_some() {
            return None;
        }
        let grant = self.ended(name, today)?;
        let mut text = format!("the exemption {} expired on {}: governed again", grant.described(), grant.expires);
        if self.tagged(tags) {
            text.push_str(&format!("; its {}={} tag no longer exempts it", self.tag_key, self.tag_value));
        }
        Some(ExemptionNote { state: ExemptionState::Expired, text, grant: Some(grant.clone()) })
    }

    /// The latest-ending grant covering `name` that has ended by `today`.
    fn ended(&self, name: &str, today: Date) -> Option<&Grant> {
        let ended = self.granted.iter().filter(|grant| grant.expires < today && grant.covers(name));
        ended.max_by_key(|grant| grant.expires)
    }

    /// Every glob that exempts a repository by name on some day: for the scanning and replication scopes, which
    /// only mention them.
    pub fn name_globs(&self) -> Vec<NameGlob> {
        let granted = self.granted.iter().flat_map(|grant| grant.repositories.iter());
        self.repositories.iter().chain(granted).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).expect("a date")
    }

    fn exemptions() -> Exemptions {
        Exemptions {
            tag_key: "ecr-warden:exempt".into(),
            tag_value: "true".into(),
            repositories: vec![NameGlob::new("vendor/**").expect("glob")],
            granted: vec![Grant {
                repositories: vec![NameGlob::new("legacy/**").expect("glob")],
                owner: "team-legacy".into(),
                reason: "PLAT-123: moving off".into(),
                expires: date("2026-12-31"),
            }],
            accounts: vec![],
        }
    }

    fn tagged() -> BTreeMap<String, String> {
        BTreeMap::from([("ecr-warden:exempt".to_string(), "true".to_string())])
    }

    #[test]
    fn a_grant_holds_through_its_expiry_date_and_ends_the_next_day() {
        let e = exemptions();
        let last_day = e.by_name("legacy/app", date("2026-12-31")).expect("still listed");
        assert_eq!(last_day.state, ExemptionState::Listed);
        assert_eq!(last_day.text, "listed for `legacy/**` (owner team-legacy: PLAT-123: moving off) until 2026-12-31");
        assert!(e.by_name("legacy/app", date("2027-01-01")).is_none(), "ended");
        let expired = e.expired("legacy/app", &BTreeMap::new(), date("2027-01-01")).expect("says so");
        assert_eq!(expired.state, ExemptionState::Expired);
        assert!(expired.text.ends_with("expired on 2026-12-31: governed again"), "{}", expired.text);
        assert!(e.expired("legacy/app", &BTreeMap::new(), date("2026-12-31")).is_none(), "not yet");
        assert!(e.expired("other", &BTreeMap::new(), date("2027-01-01")).is_none(), "never covered");
    }

    #[test]
    fn the_tag_alone_exempts_but_is_unlisted_and_cant_extend_an_ended_grant() {
        let e = exemptions();
        let unlisted = e.by_tags("app", &tagged(), date("2027-01-01")).expect("exempt by tag");
        assert_eq!(unlisted.state, ExemptionState::Unlisted);
        assert!(unlisted.text.starts_with("tagged ecr-warden:exempt=true but not listed"), "{}", unlisted.text);
        assert!(e.by_tags("legacy/app", &tagged(), date("2027-01-01")).is_none(), "the grant ended");
        let expired = e.expired("legacy/app", &tagged(), date("2027-01-01")).expect("governed again");
        assert!(expired.text.ends_with("its ecr-warden:exempt=true tag no longer exempts it"), "{}", expired.text);
        assert!(e.by_tags("app", &BTreeMap::new(), date("2027-01-01")).is_none(), "no tag");
    }

    #[test]
    fn names_listed_for_good_stay_exempt() {
        let e = exemptions();
        let listed = e.by_name("vendor/nginx", date("2099-01-01")).expect("listed");
        assert_eq!(
            (listed.state, listed.text.as_str()),
            (ExemptionState::Listed, "name matches exemption `vendor/**`")
        );
        assert_eq!(e.name_globs().len(), 2);
    }

    #[test]
    fn a_grant_needs_globs_an_owner_and_a_reason() {
        let grant =
            Grant { repositories: vec![], owner: " ".into(), reason: "x".repeat(1025), expires: date("2027-01-01") };
        let problems: Vec<String> = grant.problems("exemptions.granted[0]").iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[1].contains("exemptions.granted[0].owner"), "{problems:?}");
    }
}
