//! Lambda function: govern the whole registry. Invoked by hand with
//! `{"dryRun": bool, "repositories": [globs], "concurrency": n, "lifecycleImpact": bool, "fanOut": bool}` (all
//! optional), or by the nightly `Scheduled Event` (an audit: nothing is changed). Returns the report as JSON;
//! with `fanOut`, sends the repositories to the work queue for the backfill-worker function instead.

use warden_runtime::handle::Purpose;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_runtime::function::serve(Purpose::Backfill).await
}
