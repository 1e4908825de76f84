//! Lambda function: CloudTrail "AWS API Call via CloudTrail" events from ECR. A repository that is
//! created, or whose governed settings someone changes, is brought back to the baseline at once.

use warden_runtime::handle::Purpose;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_runtime::function::serve(Purpose::RepositoryEvents).await
}
