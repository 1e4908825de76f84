//! Lambda function: `ECR Image Action` events. A successful push governs its repository, checks the
//! pushed tag against the baseline's tag rules, and makes sure the image gets scanned; violations
//! become alerts. Images are never deleted or retagged.

use warden_runtime::handle::Purpose;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_runtime::function::serve(Purpose::ImagePushes).await
}
