//! The replay provider on temp folders in each supported layout. No network.

use qt::llm::{ChatRequest, Client, ClientOptions, LlmError, Message};
use qt::spec::{LlmCfg, ProviderKind};
use qt::record::answers::RecordedLayout;
use std::path::Path;
use std::sync::Arc;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn client(responses: &str) -> Result<Client, LlmError> {
    let cfg = LlmCfg { provider: ProviderKind::Replay, responses: Some(responses.into()), ..LlmCfg::default() };
    // The run-tree layout comes from record/, as `qt run` passes it.
    let opts = ClientOptions { recorded: Some(Arc::new(RecordedLayout)), ..ClientOptions::default() };
    Client::new(&cfg, None, None, opts)
}

fn req(query: &str, worker: u32, attempt: u32) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user("ignored by replay")],
        temperature: 0.7,
        max_tokens: 100,
        sample_index: worker,
        query_id: query.into(),
        worker,
        attempt,
    }
}

async fn answer(c: &Client, query: &str, worker: u32) -> (String, String) {
    let r = c.complete(req(query, worker, 0)).await.unwrap();
    (r.content, r.source.unwrap_or_default())
}

#[tokio::test]
async fn earlier_run_tree_uses_the_latest_timestamp() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "q1_20250101_090000/gen_01/response.txt", "old");
    write(d.path(), "q1_20250302_101500/gen_01/response.txt", "new");
    write(d.path(), "q1_20250302_101500/gen_02/response.1.txt", "first try");
    write(d.path(), "q1_20250302_101500/gen_02/response.txt", "final");
    write(d.path(), "q12_20990101_000000/gen_01/response.txt", "other query");
    let c = client(d.path().to_str().unwrap()).unwrap();
    let r = c.complete(req("1", 1, 0)).await.unwrap();
    assert_eq!(r.content, "new");
    assert!(r.source.as_deref().unwrap().contains("q1_20250302_101500"), "{:?}", r.source);
    assert_eq!((r.model.as_str(), r.finish_reason.as_deref()), ("replay", Some("stop")));
    assert_eq!((r.prompt_tokens, r.completion_tokens, r.cached), (0, 0, false));
    // Earlier attempts replay in the order they were recorded.
    assert_eq!(c.complete(req("1", 2, 0)).await.unwrap().content, "first try");
    assert_eq!(c.complete(req("1", 2, 1)).await.unwrap().content, "final");
    assert_eq!(c.complete(req("q12", 1, 0)).await.unwrap().content, "other query");
}

#[tokio::test]
async fn worker_file_layouts() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "q3/w01.txt", "w-layout");
    write(d.path(), "q4/02.txt", "nn-layout");
    write(d.path(), "q23a_w05.txt", "flat-layout");
    let c = client(d.path().to_str().unwrap()).unwrap();
    assert_eq!(answer(&c, "3", 1).await.0, "w-layout");
    assert_eq!(answer(&c, "4", 2).await.0, "nn-layout");
    let (content, source) = answer(&c, "23a", 5).await;
    assert_eq!(content, "flat-layout");
    assert!(!source.contains("cycled"), "{source}");
}

#[tokio::test]
async fn fewer_files_than_workers_cycle_deterministically() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "q2/w01.txt", "A");
    write(d.path(), "q2/w02.txt", "B");
    let c = client(d.path().to_str().unwrap()).unwrap();
    assert_eq!(answer(&c, "2", 2).await.0, "B");
    let (content, source) = answer(&c, "2", 3).await;
    assert_eq!(content, "A");
    assert!(source.contains("cycled"), "{source}");
    assert_eq!(answer(&c, "2", 4).await.0, "B");
}

#[tokio::test]
async fn missing_answer_names_the_folder_and_paths_tried() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "q1/w01.txt", "x");
    let c = client(d.path().to_str().unwrap()).unwrap();
    let e = c.complete(req("9", 1, 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Replay(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(d.path().to_str().unwrap()), "{msg}");
    assert!(msg.contains("q9/w01.txt") && msg.contains("q9_w01.txt"), "{msg}");
    assert!(!e.is_bad_input());
}

#[tokio::test]
async fn glob_of_files_and_of_folders() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "answers/q5_w01.txt", "five-one");
    write(d.path(), "answers/q5_w02.txt", "five-two");
    write(d.path(), "answers/q6_w01.txt", "six");
    let files = client(&format!("{}/answers/*.txt", d.path().display())).unwrap();
    assert_eq!(answer(&files, "5", 2).await.0, "five-two");
    assert_eq!(answer(&files, "6", 1).await.0, "six");
    let (content, source) = answer(&files, "5", 3).await;
    assert_eq!(content, "five-one");
    assert!(source.contains("cycled"), "{source}");
    assert!(matches!(files.complete(req("7", 1, 0)).await, Err(LlmError::Replay(_))));

    write(d.path(), "runs/a/q8/w01.txt", "eight");
    let dirs = client(&format!("{}/runs/*", d.path().display())).unwrap();
    assert_eq!(answer(&dirs, "8", 1).await.0, "eight");
}

#[tokio::test]
async fn empty_file_is_an_llm_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "q1/w01.txt", "  \n");
    let c = client(d.path().to_str().unwrap()).unwrap();
    let e = c.complete(req("1", 1, 0)).await.unwrap_err();
    assert!(matches!(e, LlmError::Empty(_)), "{e:?}");
    assert_eq!(e.kind(), "llm_error");
}

#[tokio::test]
async fn unusable_responses_setting_is_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope");
    let e = client(missing.to_str().unwrap()).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("nope"), "{e}");
    let e = client(&format!("{}/*.none", d.path().display())).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("matches nothing"), "{e}");
    let cfg = LlmCfg { provider: ProviderKind::Replay, ..LlmCfg::default() };
    let e = Client::new(&cfg, None, None, ClientOptions::default()).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("llm.responses"), "{e}");
}
