//! Lambda function: the backfill fan-out's worker. Takes messages of repository names from the work queue
//! (an SQS event source), governs them, and answers a partial batch response (`batchItemFailures`) naming the
//! messages to deliver again.

use warden_runtime::handle::Purpose;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    warden_runtime::function::serve(Purpose::BackfillWorker).await
}
