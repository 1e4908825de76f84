//! Repositories nobody uses or owns: a report, never a change. A repository is flagged when it holds no image,
//! when nothing was pushed to it and nothing pulled from it for `days` (`imagePushedAt`, `lastRecordedPullTime`:
//! ECR records pulls at best once a day, and not before it started recording, so "never pulled" means none
//! recorded), or when it lacks the owner tag.

use serde::Serialize;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What a repository's images say about its use (`DescribeImages`, all pages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Images in it.
    pub images: usize,
    /// Their total size (`imageSizeInBytes`; layers shared between images are counted once per image, as ECR
    /// reports them).
    pub bytes: u64,
    /// The newest push, in milliseconds since the epoch.
    pub last_push_ms: Option<i64>,
    /// The newest recorded pull.
    pub last_pull_ms: Option<i64>,
}

/// What the report looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRules {
    /// Days without a push or a pull after which a repository is idle.
    pub idle_days: u32,
    /// The tag naming a repository's owner.
    pub owner_tag: String,
}

/// Why a repository is in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    /// It holds no image.
    Empty,
    /// No push and no recorded pull for the idle days.
    Idle,
    /// It has no owner tag.
    Unowned,
}

impl Flag {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Empty => "empty",
            Flag::Idle => "idle",
            Flag::Unowned => "unowned",
        }
    }
}

/// The flags `usage` and `tags` earn under `rules` at `now_ms`, in order.
pub fn flags(usage: &Usage, has_owner: bool, rules: &UsageRules, now_ms: i64) -> Vec<Flag> {
    let mut flags = Vec::new();
    if usage.images == 0 {
        flags.push(Flag::Empty);
    }
    let limit = now_ms - i64::from(rules.idle_days) * DAY_MS;
    let last_use = usage.last_push_ms.max(usage.last_pull_ms);
    if usage.images > 0 && last_use.is_some_and(|used| used < limit) {
        flags.push(Flag::Idle);
    }
    if !has_owner {
        flags.push(Flag::Unowned);
    }
    flags
}

/// Days between `ms` and `now_ms`, rounded down.
pub fn days_since(ms: i64, now_ms: i64) -> i64 {
    (now_ms - ms).max(0) / DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 400 * DAY_MS;

    fn rules() -> UsageRules {
        UsageRules { idle_days: 90, owner_tag: "owner".into() }
    }

    fn used(push_days_ago: i64, pull_days_ago: Option<i64>) -> Usage {
        Usage {
            images: 2,
            bytes: 10,
            last_push_ms: Some(NOW - push_days_ago * DAY_MS),
            last_pull_ms: pull_days_ago.map(|d| NOW - d * DAY_MS),
        }
    }

    #[test]
    fn a_repository_is_idle_only_when_neither_pushed_nor_pulled_within_the_days() {
        assert_eq!(flags(&used(200, None), true, &rules(), NOW), [Flag::Idle], "old push, never pulled");
        assert_eq!(flags(&used(200, Some(100)), true, &rules(), NOW), [Flag::Idle]);
        assert!(flags(&used(200, Some(10)), true, &rules(), NOW).is_empty(), "pulled recently: in use");
        assert!(flags(&used(10, None), true, &rules(), NOW).is_empty(), "pushed recently: in use");
    }

    #[test]
    fn empty_and_unowned_are_their_own_flags() {
        assert_eq!(flags(&Usage::default(), false, &rules(), NOW), [Flag::Empty, Flag::Unowned]);
        assert_eq!(days_since(NOW - 3 * DAY_MS - 1, NOW), 3);
    }
}
