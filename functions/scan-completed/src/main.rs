//! Lambda function: `ECR Image Scan`, `Inspector2 Scan` and `Inspector2 Finding` events. Findings above
//! the baseline's threshold (after suppressions) become one alert per image and finding set.

use warden_runtime::handle::Purpose;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_runtime::function::serve(Purpose::ScanResults).await
}
