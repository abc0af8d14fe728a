//! Dry runs, shared by the CLI (`--dry-run`) and the action (`dry-run: true`): plausible answers
//! so that every step of each service's flow is shown, and the printout of what would be sent.
//!
//! Rules: nothing here sends anything (the edges pair [`respond`] with
//! [`RecordingClient::answering`](crate::http::recording::RecordingClient::answering)); every
//! printed request has its secret headers ([`SECRET_HEADERS`]), credentials in URLs, Testomat.io's
//! `api_key` body field and ValueEdge's sign-in body replaced by `****`.

use crate::http::recording::Recorded;
use crate::http::{Body, Response, StatusCode};
use crate::upload::{testnod, testomat, valueedge};

/// Headers whose values a dry run never prints.
pub const SECRET_HEADERS: &[&str] = &[testnod::TOKEN_HEADER, "authorization", "cookie"];

/// Where TestNod's dry-run upload answer points the file: a host that cannot exist (RFC 2606).
const DRY_RUN_PRESIGNED_URL: &str = "https://storage.dry-run.invalid/presigned-upload";

/// The answer a service would plausibly give `request`; `200 {}` for anything not listed.
pub fn respond(request: &Recorded) -> Response<Body> {
    if let Some(body) = aio_answer(&request.url) {
        return Response::new(body.as_bytes().to_vec());
    }
    // Testomat.io create and attach: a run to send the batches to.
    let run_uid = request
        .url
        .rsplit_once(testomat::CREATE_PATH)
        .map(|(_, rest)| rest.trim_start_matches('/'))
        .filter(|rest| !rest.contains('/'));
    if let Some(uid) = run_uid {
        let uid = if uid.is_empty() { "dry-run" } else { uid };
        let body = serde_json::json!({ "uid": uid, "url": null });
        return Response::new(body.to_string().into_bytes());
    }
    if let Some(answer) = valueedge_answer(request) {
        return answer;
    }
    if let Some(body) = github_answer(request) {
        return Response::new(body.as_bytes().to_vec());
    }
    if !request.url.ends_with(testnod::UPLOAD_PATH) {
        return Response::new(b"{}".to_vec());
    }
    let body = serde_json::json!({
        "id": 1,
        "test_run_id": 0,
        "upload_id": 1,
        "test_run_url": null,
        "presigned_url": DRY_RUN_PRESIGNED_URL,
    });
    let mut response = Response::new(body.to_string().into_bytes());
    *response.status_mut() = StatusCode::CREATED;
    response
}

/// AIO Tests: no cycle found, so the create call is shown too.
fn aio_answer(url: &str) -> Option<&'static str> {
    let path = url.split('?').next().unwrap_or(url);
    if path.ends_with("/testcycle/search") {
        Some(r#"{"items":[]}"#)
    } else if path.ends_with("/testcycle/detail") {
        Some(r#"{"ID":0,"key":"DRY-RUN-CY-0"}"#)
    } else if path.ends_with("/import/results/batch") {
        Some(r#"{"batchId":"dry-run","size":"0","errorMsg":null}"#)
    } else if path.ends_with("/import/results") {
        Some(r#"{"status":"SUCCESS","requestCount":0,"successCount":0,"errorCount":0,"errors":{}}"#)
    } else {
        None
    }
}

/// GitHub: a created check run or comment (the flows need its id), empty lists (pull requests of
/// the commit, comments, changed files).
fn github_answer(request: &Recorded) -> Option<&'static str> {
    let path = request.url.split('?').next().unwrap_or_default();
    match request.method.as_str() {
        "POST" if path.ends_with("/check-runs") || path.ends_with("/comments") => {
            Some(r#"{"id":0,"html_url":null}"#)
        }
        "GET" if path.contains("/repos/") => Some("[]"),
        _ => None,
    }
}

/// ValueEdge: a session, an accepted task, a finished task.
fn valueedge_answer(request: &Recorded) -> Option<Response<Body>> {
    let path = request.url.split('?').next().unwrap_or_default();
    let (status, body, cookie) = if path.ends_with(valueedge::SIGN_IN_PATH) {
        (StatusCode::OK, "", true)
    } else if path.ends_with("/test-results") {
        (StatusCode::ACCEPTED, r#"{"status":"queued","id":0}"#, false)
    } else if path.contains("/test-results/") {
        (StatusCode::OK, r#"{"id":0,"status":"success"}"#, false)
    } else {
        return None;
    };
    let mut builder = Response::builder().status(status);
    if cookie {
        builder = builder.header(
            "set-cookie",
            format!("{}=dry-run; Path=/", valueedge::SESSION_COOKIE),
        );
    }
    builder.body(body.as_bytes().to_vec()).ok()
}

/// Each request as a dry run prints it: method, redacted URL and headers, body (ValueEdge's
/// sign-in without its keys, its payloads decompressed).
pub fn describe(requests: Vec<Recorded>) -> Vec<String> {
    requests
        .into_iter()
        .map(|r| shown(r).describe(SECRET_HEADERS))
        .collect()
}

fn shown(request: Recorded) -> Recorded {
    let path = request.url.split('?').next().unwrap_or_default();
    if path.ends_with(valueedge::SIGN_IN_PATH) {
        return Recorded {
            body: br#"{"client_id":"****","client_secret":"****"}"#.to_vec(),
            ..request
        };
    }
    match valueedge::gunzip(&request.body) {
        Some(xml) if path.ends_with("/test-results") => Recorded {
            body: xml,
            ..request
        },
        _ => request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Recorded {
        Recorded {
            method: method.into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_service_gets_an_answer_that_lets_its_flow_continue() {
        let upload = respond(&recorded(
            "POST",
            "https://t/integrations/test_runs/upload",
            &[],
            "",
        ));
        assert_eq!(upload.status(), StatusCode::CREATED);
        assert!(String::from_utf8_lossy(upload.body()).contains(DRY_RUN_PRESIGNED_URL));
        let create = respond(&recorded("POST", "https://m/api/reporter", &[], ""));
        assert_eq!(create.body(), br#"{"uid":"dry-run","url":null}"#);
        let sign_in = respond(&recorded(
            "POST",
            "https://o/authentication/sign_in",
            &[],
            "",
        ));
        assert!(sign_in.headers().contains_key("set-cookie"));
        let cycle = respond(&recorded("POST", "https://a/testcycle/detail", &[], ""));
        assert!(String::from_utf8_lossy(cycle.body()).contains("DRY-RUN-CY-0"));
        let check = respond(&recorded("POST", "https://g/repos/o/r/check-runs", &[], ""));
        assert_eq!(check.body(), br#"{"id":0,"html_url":null}"#);
        let pulls = respond(&recorded(
            "GET",
            "https://g/repos/o/r/commits/s/pulls",
            &[],
            "",
        ));
        assert_eq!(pulls.body(), b"[]");
    }

    #[test]
    fn the_printout_hides_every_credential() {
        let printed = describe(vec![
            recorded(
                "POST",
                "https://user:pw-1@t/integrations/test_runs/upload?api_key=key-2",
                &[
                    ("Project-Token", "token-3"),
                    ("Authorization", "Bearer t-4"),
                ],
                r#"{"api_key":"key-5","title":"x"}"#,
            ),
            recorded(
                "POST",
                "https://o/authentication/sign_in",
                &[],
                r#"{"client_id":"id-6","client_secret":"secret-7"}"#,
            ),
        ])
        .join("\n");
        for secret in [
            "pw-1", "key-2", "token-3", "t-4", "key-5", "id-6", "secret-7",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("\"title\":\"x\""), "{printed}");
    }
}
