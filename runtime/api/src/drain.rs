//! What a refused request still sends is read and dropped, a chunk at a time: the client,
//! still sending its body, gets the answer rather than a reset connection, and the server
//! never holds more than one chunk of it (a refused 64 MiB upload costs reading it, not
//! 64 MiB of memory).

use axum::body::Body;
use futures_util::StreamExt;

/// Reads and drops up to `limit` bytes of `body`, then stops (the rest closes with the
/// connection).
pub(crate) async fn drain(body: Body, limit: usize) {
    let mut chunks = body.into_data_stream();
    let mut read = 0usize;
    while let Some(Ok(chunk)) = chunks.next().await {
        read = read.saturating_add(chunk.len());
        if read > limit {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_is_read_to_its_end_or_to_the_limit() {
        let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![0u8; 1 << 16]));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        drain(body, usize::MAX).await;
        let endless =
            futures_util::stream::repeat_with(|| Ok::<_, std::io::Error>(vec![0u8; 1 << 16]));
        drain(Body::from_stream(endless), 1 << 20).await;
    }
}
