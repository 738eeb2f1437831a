//! Reading a request body up to a limit.

use bytes::{Buf, BufMut};
use http::{Request, StatusCode, header};
use http_body::Body;
use http_body_util::BodyExt;

use super::reply::Refusal;

/// The whole body of `request`, or the answer refusing it: 413 as soon as its
/// `Content-Length` or the bytes read so far exceed `limit` (nothing more is read), 400 when
/// it cannot be read.
pub(super) async fn read<B>(request: Request<B>, limit: usize) -> Result<Vec<u8>, Refusal>
where
    B: Body,
    B::Data: Buf,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let mut body = std::pin::pin!(request.into_body());
    let mut bytes = Vec::with_capacity(declared.map_or(0, |length| length as usize));
    while let Some(frame) = body.as_mut().frame().await {
        let Ok(frame) = frame else {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "The request body could not be read",
            ));
        };
        // Trailers and other frames carry nothing of the body.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len().saturating_add(data.remaining()) > limit {
            return Err(too_large(limit));
        }
        bytes.put(data);
    }
    Ok(bytes)
}

fn too_large(limit: usize) -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Request body too large (max {limit} bytes)"),
    )
}
