//! Which accounts a baseline governs, and which of its rules apply in an account (organization mode): the
//! `[organization]` section narrows the governed accounts, `[exemptions] accounts` leaves some alone, and a rule's
//! `accounts` / `organizational_units` limit it to some. An organizational unit is matched at any depth: an account
//! is under every OU on its path to the root, and under the root (`ListParents`, Organizations API reference).

use crate::arn::is_account_id;
use crate::controls::Rule;
use crate::section::Problem;

/// Where an account sits in the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// The account ID.
    pub account: String,
    /// Every organizational unit above it and the root (their IDs); empty when not asked for.
    pub organizational_units: Vec<String>,
    /// Its organization's ID, when the baseline needs it (`allow_organization`).
    pub organization_id: Option<String>,
}

/// A set of accounts: these IDs, and every account under these organizational units or roots. Empty: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSet {
    /// Account IDs.
    pub accounts: Vec<String>,
    /// Organizational unit and root IDs.
    pub organizational_units: Vec<String>,
}

impl AccountSet {
    /// Whether the set names no account at all.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.organizational_units.is_empty()
    }

    /// Whether the account `placement` describes is in the set.
    pub fn contains(&self, placement: &Placement) -> bool {
        self.accounts.contains(&placement.account)
            || self.organizational_units.iter().any(|unit| placement.organizational_units.contains(unit))
    }

    /// Problems with the IDs, each naming `at` (`organization`, `rules[2]`).
    pub(super) fn problems(&self, at: &str) -> Vec<Problem> {
        let accounts = self
            .accounts
            .iter()
            .filter(|id| !is_account_id(id))
            .map(|id| Problem::new(format!("{at}.accounts"), format!("`{id}` is not a 12-digit account ID")));
        let units = self.organizational_units.iter().filter(|id| !is_unit_id(id)).map(|id| {
            Problem::new(
                format!("{at}.organizational_units"),
                format!("`{id}` is not an organizational unit ID (ou-xxxx-xxxxxxxx) or a root ID (r-xxxx)"),
            )
        });
        accounts.chain(units).collect()
    }
}

impl From<&Rule> for AccountSet {
    fn from(rule: &Rule) -> Self {
        Self { accounts: rule.accounts.clone(), organizational_units: rule.organizational_units.clone() }
    }
}

/// Whether a rule applies in the account `placement` describes: a rule naming no account applies everywhere.
pub(super) fn applies_in(rule: &Rule, placement: &Placement) -> bool {
    let set = AccountSet::from(rule);
    set.is_empty() || set.contains(placement)
}

/// Whether `id` is an organizational unit's or a root's ID: `ou-` then 4 to 32 lowercase letters or digits, a
/// dash and 8 to 32 more; or `r-` then 4 to 32 (Organizations API reference, `Parent`: `Id`).
pub fn is_unit_id(id: &str) -> bool {
    let word = |text: &str, min: usize| {
        (min..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    match (id.strip_prefix("ou-"), id.strip_prefix("r-")) {
        (Some(rest), _) => rest.split_once('-').is_some_and(|(root, unit)| word(root, 4) && word(unit, 8)),
        (None, Some(root)) => word(root, 4),
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_ids_follow_the_organizations_pattern() {
        for good in ["ou-ab12-cd34ef56", "r-ab12", "ou-abcd-0123456789abcdef"] {
            assert!(is_unit_id(good), "{good}");
        }
        for bad in ["ou-ab1-cd34ef56", "ou-ab12-cd34", "OU-ab12-cd34ef56", "r-ab", "ou-ab12", "123456789012", ""] {
            assert!(!is_unit_id(bad), "{bad}");
        }
    }

    #[test]
    fn an_account_is_in_a_set_by_id_or_by_any_unit_above_it() {
        let placement = Placement {
            account: "111111111111".into(),
            organizational_units: vec!["ou-ab12-cd34ef56".into(), "r-ab12".into()],
            organization_id: None,
        };
        let by_id = AccountSet { accounts: vec!["111111111111".into()], ..Default::default() };
        let by_root = AccountSet { organizational_units: vec!["r-ab12".into()], ..Default::default() };
        let elsewhere =
            AccountSet { accounts: vec!["222222222222".into()], organizational_units: vec!["ou-ab12-ffffffff".into()] };
        assert!(by_id.contains(&placement) && by_root.contains(&placement));
        assert!(!elsewhere.contains(&placement));
        assert!(!AccountSet::default().contains(&placement));
    }
}
