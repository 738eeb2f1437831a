//! `asap-zstd-v1`: zstd (RFC 8878) with the ASAP envelope dictionary shipped in this crate.
//!
//! The coding is private to asap-rs peers (see the [`Encoding::AsapZstd`] docs for the
//! negotiation). Every frame must name the dictionary by its id, [`ASAP_ZSTD_DICTIONARY_ID`];
//! the frame header is checked before decoding so that a frame made with another dictionary,
//! or with none, is refused with a message saying so instead of decoding to garbage or to
//! zstd's generic "Dictionary mismatch".
//!
//! [`Encoding::AsapZstd`]: super::Encoding::AsapZstd

use std::io;
use std::sync::OnceLock;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::stream::raw::{DParameter, Decoder, Encoder, InBuffer, Operation, OutBuffer};

use super::coop::Budget;
use super::decode::{DecompressError, Output, Source, at_end};

/// The ASAP envelope dictionary, version 1, in zstd's dictionary format.
///
/// Trained on ASAP envelopes by `cargo run -p asap-benches --release --bin train-dictionary`
/// (see `crates/asap-codec/dict/README.md`); its id is [`ASAP_ZSTD_DICTIONARY_ID`].
static DICTIONARY: &[u8] = include_bytes!("../../dict/asap-envelopes-v1.zdict");

/// The dictionary id of the `asap-zstd-v1` dictionary, written in every frame header.
///
/// `0xA5A1`: in zstd's private range (32 768 ..= 2³¹ − 1, RFC 8878 §5) and below 2¹⁶, so it
/// takes 2 bytes of each frame header. A new dictionary gets a new id and a new coding token.
pub const ASAP_ZSTD_DICTIONARY_ID: u32 = 0xA5A1;

/// The zstd level used by [`compress`](super::compress) for `asap-zstd-v1`.
///
/// With the dictionary, level 3 (zstd's default) compresses request bodies of a few KiB
/// faster than brotli quality 4 and gzip level 6; higher levels gain about a percent for
/// several times the CPU (see `benches/README.md`).
pub const ZSTD_LEVEL: i32 = 3;

/// The largest zstd window a received frame may ask for, as a power of two: 2²³ = 8 MiB.
///
/// The decoder allocates the window the frame header announces; frames announcing more are
/// refused as invalid, so a hostile frame cannot make the decoder reserve zstd's default
/// maximum of 128 MiB. [`compress`](super::compress) never produces windows above 2 MiB.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// The bytes of the shipped dictionary (zstd dictionary format, id
/// [`ASAP_ZSTD_DICTIONARY_ID`]).
///
/// ```
/// use asap_codec::compression::{asap_zstd_dictionary, ASAP_ZSTD_DICTIONARY_ID};
///
/// let dict = asap_zstd_dictionary();
/// assert_eq!(dict[..4], [0x37, 0xa4, 0x30, 0xec]); // zstd dictionary magic
/// assert_eq!(u32::from_le_bytes(dict[4..8].try_into().unwrap()), ASAP_ZSTD_DICTIONARY_ID);
/// ```
pub fn asap_zstd_dictionary() -> &'static [u8] {
    DICTIONARY
}

/// The dictionary digested for compression at [`ZSTD_LEVEL`], built once per process.
fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static PREPARED: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    PREPARED.get_or_init(|| EncoderDictionary::copy(DICTIONARY, ZSTD_LEVEL))
}

/// The dictionary digested for decompression, built once per process.
fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static PREPARED: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    PREPARED.get_or_init(|| DecoderDictionary::copy(DICTIONARY))
}

/// Input fed to the encoder between two yield checks.
const COMPRESS_CHUNK: usize = 128 * 1024;

/// Compresses `data` into one `asap-zstd-v1` frame.
///
/// The frame carries the content size and the dictionary id but no content checksum: the
/// transport protects the body, and a body that decodes to something else fails as JSON.
pub(super) async fn compress(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = Encoder::with_prepared_dictionary(encoder_dictionary())?;
    encoder.set_pledged_src_size(Some(data.len() as u64))?;
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    let mut budget = Budget::default();
    for chunk in data.chunks(COMPRESS_CHUNK) {
        let mut input = InBuffer::around(chunk);
        while input.pos() < chunk.len() {
            make_room(&mut out);
            let len = out.len();
            encoder.run(&mut input, &mut OutBuffer::around_pos(&mut out, len))?;
        }
        budget.spend(chunk.len()).await;
    }
    loop {
        make_room(&mut out);
        let len = out.len();
        if encoder.finish(&mut OutBuffer::around_pos(&mut out, len), true)? == 0 {
            return Ok(out);
        }
    }
}

/// Leaves at least 4 KiB of spare capacity in the encoder's output.
fn make_room(out: &mut Vec<u8>) {
    const MIN_SPARE: usize = 4 * 1024;
    if out.capacity() - out.len() < MIN_SPARE {
        out.reserve(out.len().max(MIN_SPARE));
    }
}

/// The zstd frame magic number, little-endian (RFC 8878 §3.1.1).
const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Magic number and frame header descriptor.
const FIXED_HEADER: usize = 5;

/// The longest header prefix read before decoding: magic, descriptor, window descriptor and a
/// 4-byte dictionary id.
const MAX_PREFIX: usize = FIXED_HEADER + 1 + 4;

/// Decodes exactly one `asap-zstd-v1` frame from `source` into `out` and rejects anything
/// after it.
pub(super) async fn decompress<R>(
    source: &mut Source<R>,
    out: &mut Output,
) -> Result<(), DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    let mut prefix = [0u8; MAX_PREFIX];
    let prefix_len = read_prefix(source, &mut prefix).await?;
    let mut decoder = Decoder::with_prepared_dictionary(decoder_dictionary()).map_err(invalid)?;
    decoder
        .set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))
        .map_err(invalid)?;
    let mut pending = &prefix[..prefix_len];
    while !pending.is_empty() {
        let (consumed, _) = step(&mut decoder, pending, out)?;
        pending = &pending[consumed..];
    }
    loop {
        let input = source.fill_buf().await.map_err(DecompressError::Io)?;
        if input.is_empty() {
            // The input is used up: drain what the decoder still holds.
            let before = out.buf.len();
            let (_, finished) = step(&mut decoder, &[], out)?;
            if finished {
                break;
            }
            if out.buf.len() == before {
                return Err(DecompressError::Invalid {
                    reason: "truncated zstd frame".to_owned(),
                });
            }
            continue;
        }
        let before = out.buf.len();
        let (consumed, finished) = step(&mut decoder, input, out)?;
        source.consume(consumed);
        out.budget.spend(out.buf.len() - before).await;
        if finished {
            break;
        }
    }
    if at_end(source).await? {
        Ok(())
    } else {
        Err(DecompressError::Invalid {
            reason: "unexpected data after the end of the zstd frame".to_owned(),
        })
    }
}

/// Reads the frame header up to the dictionary id and checks the magic number and the
/// dictionary id (RFC 8878 §3.1.1.1). Returns how many bytes of `prefix` were read; they
/// still have to go through the decoder.
///
/// zstd itself only compares dictionary ids when the frame has one, and then reports a
/// generic mismatch; reading the few header bytes here gives both cases a clear message.
async fn read_prefix<R>(
    source: &mut Source<R>,
    prefix: &mut [u8; MAX_PREFIX],
) -> Result<usize, DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    read_exact(source, &mut prefix[..FIXED_HEADER]).await?;
    if prefix[..4] != FRAME_MAGIC {
        return Err(DecompressError::Invalid {
            reason: "not a zstd frame".to_owned(),
        });
    }
    let descriptor = prefix[4];
    let single_segment = descriptor & 0x20 != 0;
    let window_len = usize::from(!single_segment);
    let dict_id_len = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
    let len = FIXED_HEADER + window_len + dict_id_len;
    read_exact(source, &mut prefix[FIXED_HEADER..len]).await?;
    let id_bytes = &prefix[FIXED_HEADER + window_len..len];
    let dict_id = id_bytes
        .iter()
        .rev()
        .fold(0u32, |id, &byte| (id << 8) | u32::from(byte));
    if dict_id != ASAP_ZSTD_DICTIONARY_ID {
        let found = if dict_id_len == 0 {
            "names no dictionary".to_owned()
        } else {
            format!("uses dictionary {dict_id}")
        };
        return Err(DecompressError::Invalid {
            reason: format!(
                "the zstd frame {found}; asap-zstd-v1 frames use dictionary \
                 {ASAP_ZSTD_DICTIONARY_ID}"
            ),
        });
    }
    Ok(len)
}

/// Fills `buf` from `source`; running out of input is invalid data, not an I/O error.
async fn read_exact<R>(source: &mut Source<R>, buf: &mut [u8]) -> Result<(), DecompressError>
where
    R: AsyncBufRead + Unpin,
{
    match source.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(error) if source.failed => Err(DecompressError::Io(error)),
        Err(_) => Err(DecompressError::Invalid {
            reason: "truncated zstd frame header".to_owned(),
        }),
    }
}

/// Runs the decoder once on `input`, into the output's spare capacity (grown first, never
/// beyond the limit + 1). Returns the input bytes consumed and whether the frame is complete.
fn step(
    decoder: &mut Decoder<'_>,
    input: &[u8],
    out: &mut Output,
) -> Result<(usize, bool), DecompressError> {
    if !out.reserve_within_limit() {
        return Err(out.too_large());
    }
    let mut input = InBuffer::around(input);
    let len = out.buf.len();
    let remaining = decoder
        .run(&mut input, &mut OutBuffer::around_pos(&mut out.buf, len))
        .map_err(invalid)?;
    if out.buf.len() > out.limit {
        return Err(out.too_large());
    }
    Ok((input.pos(), remaining == 0))
}

fn invalid(error: io::Error) -> DecompressError {
    DecompressError::Invalid {
        reason: format!("zstd: {error}"),
    }
}
