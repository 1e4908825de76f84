//! What AWS accepts for the values a baseline hands to it, checked when the baseline is loaded so that
//! `baseline validate` refuses what a call would later fail on.

use crate::arn::{is_account_id, Arn};

/// Why `key` can't be a repository tag key: 1 to 128 characters (ECR API reference, `TagResource`), of letters,
/// numbers, spaces and `_ . : / = + - @`, not starting with `aws:` in any case (AWS General Reference,
/// "Tagging AWS resources": tag naming limits and requirements).
pub fn tag_key_problem(key: &str) -> Option<String> {
    let length = key.chars().count();
    if !(1..=128).contains(&length) {
        return Some(format!("the tag key `{}` must be 1 to 128 characters", shown(key)));
    }
    if key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:")) {
        return Some(format!("the tag key `{}` starts with `aws:`, which AWS reserves", shown(key)));
    }
    bad_characters(key).map(|c| format!("the tag key `{}` holds {c}; {ALLOWED}", shown(key)))
}

/// Why `value` can't be a repository tag value: at most 256 characters, of the same characters as keys.
pub(crate) fn tag_value_problem(value: &str) -> Option<String> {
    if value.chars().count() > 256 {
        return Some(format!("the tag value `{}` is over 256 characters", shown(value)));
    }
    bad_characters(value).map(|c| format!("the tag value `{}` holds {c}; {ALLOWED}", shown(value)))
}

const ALLOWED: &str = "tags take letters, numbers, spaces and _ . : / = + - @";

fn bad_characters(text: &str) -> Option<String> {
    let bad = text.chars().find(|c| !(c.is_alphanumeric() || *c == ' ' || "_.:/=+-@".contains(*c)))?;
    Some(format!("{bad:?}"))
}

/// Why `arn` can't name a KMS key for ECR encryption: a key ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`) or
/// an alias ARN (`...:alias/NAME`). ECR reports the key of a repository as an ARN (API reference,
/// `EncryptionConfiguration.kmsKey`), so a bare key ID or alias name could never match it.
pub(crate) fn kms_key_problem(arn: &str) -> Option<String> {
    let fits = Arn::parse(arn).is_some_and(|arn| {
        !arn.partition.is_empty()
            && arn.service == "kms"
            && !arn.region.is_empty()
            && is_account_id(arn.account)
            && (arn.resource.strip_prefix("key/").is_some_and(|id| !id.is_empty())
                || arn.resource.strip_prefix("alias/").is_some_and(|name| !name.is_empty()))
    });
    (!fits).then(|| {
        format!(
            "`{}` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN (...:alias/NAME)",
            shown(arn)
        )
    })
}

/// Why `bus` can't be an EventBridge bus for `PutEvents`: a name of letters, digits and `. - _`, or a bus ARN
/// (`arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME`), 1 to 1,600 characters (EventBridge API reference,
/// `PutEventsRequestEntry.EventBusName`).
pub(crate) fn event_bus_problem(bus: &str) -> Option<String> {
    let name_ok = |name: &str| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    let fits = bus.len() <= 1600
        && match bus.starts_with("arn:") {
            false => name_ok(bus),
            true => Arn::parse(bus).is_some_and(|arn| {
                arn.partition.starts_with("aws")
                    && arn.service == "events"
                    && arn.region.split('-').count() >= 3
                    && is_account_id(arn.account)
                    && arn.resource.strip_prefix("event-bus/").is_some_and(name_ok)
            }),
        };
    (!fits).then(|| {
        format!(
            "`{}` is not an event bus name (letters, digits, . - _) or bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)",
            shown(bus)
        )
    })
}

/// A value as shown in a message: control characters escaped, at most 80 characters.
fn shown(text: &str) -> String {
    crate::text::shown(text, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys_and_values_follow_aws_limits() {
        for good in ["team", "cost-center", "a.b_c:d/e=f+g-h@i", "Équipe 1", &"k".repeat(128)] {
            assert_eq!(tag_key_problem(good), None, "{good}");
        }
        for bad in ["", "aws:team", "AWS:Team", "Aws:x", "team!", "a\u{7}b", &"k".repeat(129)] {
            assert!(tag_key_problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(tag_value_problem(""), None);
        assert_eq!(tag_value_problem(&"v".repeat(256)), None);
        assert!(tag_value_problem(&"v".repeat(257)).is_some());
        assert!(tag_value_problem("a;b").is_some());
        assert!(tag_key_problem("a\nb").is_some_and(|p| p.contains("a\\nb")), "control characters are escaped");
    }

    #[test]
    fn kms_keys_are_key_or_alias_arns() {
        for good in [
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/ecr",
        ] {
            assert_eq!(kms_key_problem(good), None, "{good}");
        }
        for bad in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/ecr",
            "arn:aws:kms:us-east-1:111122223333:key/",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:1111:key/x",
        ] {
            assert!(kms_key_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn event_buses_are_names_or_bus_arns() {
        for good in ["default", "ecr-warden.alerts_1", "arn:aws:events:eu-west-1:111122223333:event-bus/alerts"] {
            assert_eq!(event_bus_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "alerts bus",
            "arn:aws:sns:eu-west-1:111122223333:topic",
            "arn:aws:events:eu-west-1:1:event-bus/x",
            "arn:aws:events:eu-west-1:111122223333:rule/x",
        ] {
            assert!(event_bus_problem(bad).is_some(), "{bad}");
        }
    }
}
