//! Reading ARNs and account IDs, once for every place that needs one: an ARN is
//! `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (the resource may hold more colons), an account ID is 12
//! digits (AWS General Reference, "Amazon Resource Names (ARNs)").

/// An ARN split into its parts; what each part must hold is for the caller to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// `ecr`, `iam`, `kms`, ...
    pub service: &'a str,
    /// The region, empty for global services.
    pub region: &'a str,
    /// The account ID, empty for resources without one (an S3 bucket).
    pub account: &'a str,
    /// Everything after the account (`repository/team/api`, `function:name:alias`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` when it starts with `arn:` and has all six parts; `None` otherwise.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let (partition, service, region) = (parts.next()?, parts.next()?, parts.next()?);
        let (account, resource) = (parts.next()?, parts.next()?);
        Some(Self { partition, service, region, account, resource })
    }
}

/// Whether `text` is an AWS account ID: 12 digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` looks like an AWS region name: three or more dash-separated words of lowercase letters and
/// digits (`eu-west-1`, `us-gov-east-1`). Nothing else becomes part of an endpoint's host name.
pub fn is_region_name(text: &str) -> bool {
    let words: Vec<&str> = text.split('-').collect();
    let plain = |w: &&str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    text.len() <= 32 && words.len() >= 3 && words.iter().all(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_plain_dashed_words() {
        for good in ["eu-west-1", "us-gov-east-1", "cn-northwest-1", "ap-southeast-5"] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in ["", "eu", "eu-west", "EU-west-1", "eu-west-1.evil.com", "eu--1", "eu-west-1/x", "a-b-c d"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn arns_split_into_six_parts_and_resources_keep_their_colons() {
        let arn = Arn::parse("arn:aws:lambda:eu-west-1:123456789012:function:name:live").expect("an ARN");
        assert_eq!(
            (arn.partition, arn.service, arn.region, arn.account),
            ("aws", "lambda", "eu-west-1", "123456789012")
        );
        assert_eq!(arn.resource, "function:name:live");
        let bucket = Arn::parse("arn:aws:s3:::bucket").expect("an ARN");
        assert_eq!((bucket.region, bucket.account, bucket.resource), ("", "", "bucket"));
        for not_one in ["", "arn:aws:s3", "xarn:aws:s3:::b", "team-a/api"] {
            assert_eq!(Arn::parse(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_account_id("123456789012"));
        for not_one in ["", "12345678901", "1234567890123", "12345678901a", "１２３４５６７８９０１２"] {
            assert!(!is_account_id(not_one), "{not_one}");
        }
    }
}
