//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, its server
//! scenarios) against an asap-mcp server over Streamable HTTP that offers the suite's
//! fixtures (the tools, resource and prompts its scenarios call by name). The scenarios
//! asap-mcp cannot pass yet are listed, each with its reason, in
//! tests/conformance/expected-failures.yml; the suite fails on any other failure and on a
//! listed scenario that passes.
//!
//! The suite is an npm package run with node: `ASAP_MCP_CONFORMANCE` names its entry
//! script (`.ci/run` installs version 0.1.13, the last one that runs on Node 20, into
//! /var/tmp/asap-mcp-node). Without it the test skips locally and fails under `CI=true`.
#![cfg(feature = "http")]

use asap_mcp::http::HttpConfig;
use asap_mcp::{
    Content, McpServer, Prompt, PromptArgument, PromptMessage, Resource, Role, Tool, ToolError,
    ToolOutput,
};
use serde_json::json;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A WAV header with no samples.
const WAV: &[u8] =
    b"RIFF$\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0";

/// The fixtures the suite's scenarios call by name, with the answers they expect.
fn fixtures() -> McpServer {
    let no_arguments = || json!({"type": "object", "properties": {}});
    let embedded = || {
        Content::embedded_text(
            "test://embedded-resource",
            "text/plain",
            "This is an embedded resource content.",
        )
    };
    McpServer::builder("asap-mcp-conformance", env!("CARGO_PKG_VERSION"))
        .tool(Tool::with_context(
            "test_tool_with_progress",
            "Reports progress",
            no_arguments(),
            |_, context| async move {
                for step in [0.0, 50.0, 100.0] {
                    context.progress(step, Some(100.0), None).await;
                }
                Ok(ToolOutput::text("Progress test completed"))
            },
        ))
        .tool(Tool::new(
            "test_image_content",
            "An image",
            no_arguments(),
            |_| async { Ok(ToolOutput::content(vec![Content::image(PNG, "image/png")])) },
        ))
        .tool(Tool::new(
            "test_audio_content",
            "A sound",
            no_arguments(),
            |_| async { Ok(ToolOutput::content(vec![Content::audio(WAV, "audio/wav")])) },
        ))
        .tool(Tool::new(
            "test_embedded_resource",
            "An embedded resource",
            no_arguments(),
            move |_| async move { Ok(ToolOutput::content(vec![embedded()])) },
        ))
        .tool(Tool::new(
            "test_multiple_content_types",
            "Text, an image and a resource",
            no_arguments(),
            move |_| async move {
                Ok(ToolOutput::content(vec![
                    Content::text("Multiple content types test:"),
                    Content::image(PNG, "image/png"),
                    embedded(),
                ]))
            },
        ))
        .resource(Resource::binary(
            "test://static-binary",
            "Static binary",
            "image/png",
            || async { Ok(PNG.to_vec()) },
        ))
        .prompt(
            Prompt::new("test_prompt_with_image", |_| async {
                Ok(vec![
                    PromptMessage::new(Role::User, Content::image(PNG, "image/png")),
                    PromptMessage::user("Please analyze the image above."),
                ])
            })
            .with_description("A prompt with an image"),
        )
        .prompt(
            Prompt::new(
                "test_prompt_with_embedded_resource",
                |arguments| async move {
                    let uri = arguments["resourceUri"].clone();
                    Ok(vec![
                        PromptMessage::new(
                            Role::User,
                            Content::embedded_text(
                                uri,
                                "text/plain",
                                "Embedded resource content for testing.",
                            ),
                        ),
                        PromptMessage::user("Please process the embedded resource above."),
                    ])
                },
            )
            .with_description("A prompt with an embedded resource")
            .argument(PromptArgument::required(
                "resourceUri",
                "URI of the resource to embed",
            )),
        )
        .tool(Tool::new(
            "test_simple_text",
            "Returns simple text",
            no_arguments(),
            |_| async {
                Ok(ToolOutput::text(
                    "This is a simple text response for testing.",
                ))
            },
        ))
        .tool(Tool::new(
            "test_error_handling",
            "Always fails",
            no_arguments(),
            |_| async {
                Err(ToolError::new(
                    "This tool intentionally returns an error for testing",
                ))
            },
        ))
        .resource(
            Resource::text("test://static-text", "Static text", || async {
                Ok("This is the content of the static text resource.".to_owned())
            })
            .with_description("A static text resource"),
        )
        .prompt(
            Prompt::new("test_simple_prompt", |_| async {
                Ok(vec![PromptMessage::user(
                    "This is a simple prompt for testing.",
                )])
            })
            .with_description("A prompt without arguments"),
        )
        .prompt(
            Prompt::new("test_prompt_with_arguments", |arguments| async move {
                let (arg1, arg2) = (&arguments["arg1"], &arguments["arg2"]);
                Ok(vec![PromptMessage::user(format!(
                    "Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
                ))])
            })
            .with_description("A prompt with two arguments")
            .argument(PromptArgument::required("arg1", "First argument"))
            .argument(PromptArgument::required("arg2", "Second argument")),
        )
        .build()
        .expect("valid fixtures")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_but_for_the_listed_scenarios() {
    let Some(suite) = std::env::var_os("ASAP_MCP_CONFORMANCE") else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("ASAP_MCP_CONFORMANCE is not set, and CI=true requires the conformance run");
        }
        eprintln!("skipped: ASAP_MCP_CONFORMANCE is not set");
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = fixtures();
    let serving = tokio::spawn(async move {
        server
            .serve_http(listener, "/mcp", &HttpConfig::default(), async {
                let _ = stopped.await;
            })
            .await
    });
    let baseline = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/expected-failures.yml"
    );
    let output = tokio::process::Command::new("node")
        .arg(&suite)
        .args(["server", "--url", &url, "--expected-failures", baseline])
        .output()
        .await
        .expect("node runs");
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Baseline check passed"), "{stdout}");
}
