//! The work queue on AWS: an SQS queue that batches of repository names are sent to, ten messages a call.

use crate::api_calls::counted_client;
use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use warden_core::sink::SinkError;
use warden_core::work::WorkQueue;

use crate::SdkConfig;

/// The most messages one `SendMessageBatch` call takes.
const MESSAGES_PER_CALL: usize = 10;

/// Sends work batches to an SQS queue.
pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsWorkQueue {
    /// A queue sending to `url`.
    pub fn new(config: &SdkConfig, url: impl Into<String>) -> Self {
        Self { client: counted_client!(aws_sdk_sqs, config), url: url.into() }
    }
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    fn name(&self) -> &str {
        &self.url
    }

    async fn send(&self, bodies: &[String]) -> Result<(), SinkError> {
        for (call, chunk) in bodies.chunks(MESSAGES_PER_CALL).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| SinkError::Request(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| crate::errors::sink_error("SQS", &e))?;
            if let Some(refused) = sent.failed().first() {
                let first = call * MESSAGES_PER_CALL + refused.id().parse::<usize>().unwrap_or_default();
                return Err(SinkError::PartlyRefused(format!(
                    "SQS refused {} of the messages from message {first} on ({}: {}); the ones before were sent",
                    sent.failed().len(),
                    refused.code(),
                    refused.message().unwrap_or("no message")
                )));
            }
        }
        Ok(())
    }
}
