//! The four request shapes, grown item by item to a target size.

use asap_codec::rpc::{Id, decode_request, encode_request};
use asap_model::Envelope;
use serde_json::{Map, Value, json};

use super::text::{COUNTRIES, DOMAINS, FIRST_NAMES, Gen, LAST_NAMES};

/// The `asap.send` body the client sends for `envelope` (id `req-<n>`, idempotency key).
fn client_body(g: &mut Gen, envelope: &Value) -> Vec<u8> {
    let envelope: Envelope =
        serde_json::from_value(envelope.clone()).expect("generated envelopes are valid");
    let key = g.ulid();
    let id = Id::Str(format!("req-{}", g.rng.range(1, 5_000)));
    let body = encode_request(&id, &envelope, Some(&key));
    assert!(
        decode_request(&body)
            .map(|call| call.envelope.is_ok())
            .unwrap_or(false),
        "generated requests decode"
    );
    body
}

/// Grows a request by adding `item`s until the client body reaches `target` bytes.
fn grow(
    g: &mut Gen,
    target: usize,
    mut build: impl FnMut(&mut Gen, &[Value]) -> Value,
    mut item: impl FnMut(&mut Gen) -> Value,
) -> Vec<u8> {
    let mut items = vec![item(g)];
    loop {
        let envelope = build(g, &items);
        let body = client_body(g, &envelope);
        if body.len() >= target {
            return body;
        }
        items.push(item(g));
    }
}

/// A `task.request` whose input is a long document to summarise (paragraphs of prose).
pub fn long_text_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let title = Gen::capitalized(&g.words(8));
    let source = g.url();
    let retrieved = g.timestamp();
    let instructions = g.sentence();
    grow(
        g,
        target,
        |_, paragraphs| {
            let text = paragraphs
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n\n");
            task_request_json_fixed(
                "summarize",
                json!({
                    "document": {
                        "title": title,
                        "source_url": source,
                        "retrieved_at": retrieved,
                        "language": "en",
                        "text": text,
                    },
                    "instructions": instructions,
                    "max_words": 250,
                    "style": "bullet_points",
                }),
            )
        },
        |g| Value::String(g.paragraph()),
    )
}

/// A `task.request` envelope with fixed ids and timestamp around `input` (fixed, so that
/// growing a request does not change what is already in it).
fn task_request_json_fixed(skill_id: &str, input: Value) -> Value {
    json!({
        "id": "01K0Z7Q3M5V8T2N4R6P9X1C3B5",
        "asap_version": "0.1",
        "timestamp": "2025-09-30T12:00:00.250Z",
        "sender": "urn:asap:agent:orchestrator",
        "recipient": "urn:asap:agent:worker-7",
        "payload_type": "task.request",
        "payload": {
            "conversation_id": "conv_01K0Z7Q3M5D8F2G4H6J9K1M3N5",
            "parent_task_id": null,
            "skill_id": skill_id,
            "input": input,
            "config": {"timeout_seconds": 600, "priority": "normal", "streaming": false},
        },
        "correlation_id": null,
        "trace_id": "7d1c0b6e2f9a4c3d8e5f60718293a4b5",
        "extensions": {"nonce": "Zr8Kq2LmX4pT9vB1nW6cYe"},
    })
}

fn order_record(g: &mut Gen) -> Value {
    const STATUSES: [&str; 6] = [
        "pending",
        "paid",
        "shipped",
        "delivered",
        "refunded",
        "cancelled",
    ];
    const CURRENCIES: [&str; 5] = ["EUR", "USD", "GBP", "JPY", "BRL"];
    let first = *g.rng.pick(&FIRST_NAMES);
    let last = *g.rng.pick(&LAST_NAMES);
    let items: Vec<Value> = (0..g.rng.range(1, 4))
        .map(|_| {
            let sku = format!(
                "SKU-{}-{}",
                g.rng.range(10_000, 99_999),
                g.rng.pick(&["A", "B", "C", "X"])
            );
            json!({
                "sku": sku,
                "name": format!("{} {}", Gen::capitalized(g.common_word()), g.common_word()),
                "qty": g.rng.range(1, 12),
                "unit_price": g.amount() / 10.0,
            })
        })
        .collect();
    let tags: Vec<Value> = (0..g.rng.range(0, 3))
        .map(|_| Value::String(g.common_word().to_owned()))
        .collect();
    let note = if g.rng.chance(0.5) {
        Value::String(g.sentence())
    } else {
        Value::Null
    };
    let email = format!(
        "{}.{}{}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        g.rng.range(1, 99),
        g.rng.pick(&DOMAINS)
    );
    json!({
        "order_id": format!("ord_{}", g.ulid()),
        "customer": {
            "id": format!("cus_{}", g.base62(14)),
            "name": format!("{first} {last}"),
            "email": email,
            "country": g.rng.pick(&COUNTRIES),
        },
        "created_at": g.timestamp(),
        "updated_at": g.timestamp(),
        "status": g.rng.pick(&STATUSES),
        "total": {"amount": g.amount(), "currency": g.rng.pick(&CURRENCIES)},
        "items": items,
        "tags": tags,
        "note": note,
    })
}

/// A `task.request` carrying a list of order records to reconcile.
pub fn records_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let batch = g.ulid();
    let exported = g.timestamp();
    grow(
        g,
        target,
        |_, records| {
            task_request_json_fixed(
                "reconcile_orders",
                json!({
                    "batch_id": batch,
                    "source": "erp-export",
                    "exported_at": exported,
                    "records": records,
                }),
            )
        },
        order_record,
    )
}

fn search_hit(g: &mut Gen) -> Value {
    const ENTITY_TYPES: [&str; 4] = ["org", "person", "place", "product"];
    const SENTIMENTS: [&str; 3] = ["positive", "neutral", "negative"];
    let entities: Vec<Value> = (0..g.rng.range(1, 4))
        .map(|_| {
            let text = if g.rng.chance(0.4) {
                g.person()
            } else {
                Gen::capitalized(&g.rare_word())
            };
            json!({
                "type": g.rng.pick(&ENTITY_TYPES),
                "text": text,
                "offset": g.rng.range(0, 4_000),
            })
        })
        .collect();
    let embedding: Vec<Value> = (0..8)
        .map(|_| json!(((g.rng.unit() * 2.0 - 1.0) * 1e4).round() / 1e4))
        .collect();
    let title_words = g.rng.range(5, 10);
    json!({
        "id": format!("doc_{}", g.hex(16)),
        "score": (g.rng.unit() * 1e4).round() / 1e4,
        "url": g.url(),
        "title": Gen::capitalized(&g.words(title_words)),
        "snippet": g.sentence(),
        "metadata": {
            "author": g.person(),
            "published_at": g.timestamp(),
            "word_count": g.rng.range(200, 6_000),
            "language": "en",
            "entities": entities,
            "sentiment": {
                "label": g.rng.pick(&SENTIMENTS),
                "confidence": (g.rng.unit() * 1e3).round() / 1e3,
            },
        },
        "embedding_preview": embedding,
    })
}

/// An `mcp.tool_result`: a search tool's nested result (hits with metadata, facets).
pub fn tool_result_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let request_id = format!("req_{}", g.ulid());
    let query = g.words(6);
    let took = g.rng.range(20, 900);
    let mut by_year = Map::new();
    for year in 2019..=2025 {
        by_year.insert(year.to_string(), g.rng.range(0, 5_000).into());
    }
    let by_source: Vec<Value> = DOMAINS
        .iter()
        .take(6)
        .map(|d| json!({"source": d, "count": g.rng.range(1, 900)}))
        .collect();
    grow(
        g,
        target,
        |_, hits| {
            json!({
                "id": "01K0Z7Q9H2M4P6R8T0V2X4Z6B8",
                "asap_version": "0.1",
                "timestamp": "2025-09-30T12:00:00.250Z",
                "sender": "urn:asap:agent:mcp-gateway",
                "recipient": "urn:asap:agent:coordinator",
                "payload_type": "mcp.tool_result",
                "payload": {
                    "request_id": request_id,
                    "success": true,
                    "result": {
                        "tool": "web_search",
                        "query": query,
                        "took_ms": took,
                        "total_hits": 48_213,
                        "hits": hits,
                        "facets": {"by_year": by_year, "by_source": by_source},
                    },
                    "error": null,
                },
                "correlation_id": "01K0Z7Q3M5V8T2N4R6P9X1C3B5",
                "trace_id": "7d1c0b6e2f9a4c3d8e5f60718293a4b5",
                "extensions": null,
            })
        },
        search_hit,
    )
}

fn schema_property(g: &mut Gen) -> Value {
    match g.rng.range(0, 5) {
        0 => json!({"type": "string", "description": g.sentence()}),
        1 => json!({
            "type": "integer",
            "minimum": 0,
            "maximum": g.rng.range(10, 10_000),
            "description": g.sentence(),
        }),
        2 => json!({"type": "number", "description": g.sentence()}),
        3 => json!({"type": "string", "format": "date-time", "description": g.sentence()}),
        4 => json!({"type": "array", "items": {"type": "string"}, "maxItems": g.rng.range(5, 100)}),
        _ => json!({
            "type": "string",
            "enum": [g.common_word(), g.common_word(), g.common_word()],
            "default": g.common_word(),
        }),
    }
}

fn skill(g: &mut Gen) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for _ in 0..g.rng.range(2, 5) {
        let name = format!("{}_{}", g.common_word(), g.common_word());
        if g.rng.chance(0.5) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema_property(g));
    }
    let mut outputs = Map::new();
    for _ in 0..g.rng.range(1, 3) {
        outputs.insert(g.common_word().to_owned(), schema_property(g));
    }
    json!({
        "id": format!("{}_{}", g.common_word(), g.common_word()),
        "description": g.sentence(),
        "input_schema": {"type": "object", "properties": properties, "required": required},
        "output_schema": {"type": "object", "properties": outputs},
    })
}

/// A `task.request` registering an agent: its manifest, with many skills and their schemas.
pub fn manifest_request(g: &mut Gen, target: usize) -> Vec<u8> {
    let name = Gen::capitalized(&g.rare_word());
    let host = format!("{}.example.com", g.rare_word());
    let description = g.sentence();
    let tools: Vec<Value> = (0..4)
        .map(|_| Value::String(format!("{}_{}", g.common_word(), g.common_word())))
        .collect();
    grow(
        g,
        target,
        |_, skills| {
            task_request_json_fixed(
                "register_agent",
                json!({
                    "manifest": {
                        "id": format!("urn:asap:agent:{}", name.to_lowercase()),
                        "name": format!("{name} Agent"),
                        "version": "2.4.1",
                        "description": description,
                        "capabilities": {
                            "asap_version": "0.1",
                            "skills": skills,
                            "state_persistence": true,
                            "streaming": false,
                            "mcp_tools": tools,
                        },
                        "endpoints": {
                            "asap": format!("https://{host}/asap"),
                            "events": format!("wss://{host}/asap/events"),
                        },
                        "auth": {"schemes": ["bearer"], "oauth2": null},
                        "signature": null,
                    },
                }),
            )
        },
        skill,
    )
}
