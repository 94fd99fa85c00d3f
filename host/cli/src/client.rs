//! The command line's client side: `warden plugin push/ls`, `warden template push/render`,
//! `warden pii detect` and `warden api`, so the common operations against a running server need
//! no curl.
//!
//! The server comes from `--server` or `WARDEN_SERVER` (default `http://127.0.0.1:8080`), the
//! token from `--token` or `WARDEN_TOKEN`. Responses are printed as JSON on stdout; a refused
//! request prints the server's problem document and exits 1; a local problem (a missing file,
//! an unreachable server) is one line on stderr and exit 2.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::output::{Failure, print_json};

/// Where the server is and who we are.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server's base URL.
    #[arg(
        long,
        env = "WARDEN_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// The bearer token (see `warden token issue`).
    #[arg(long, env = "WARDEN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

/// `warden plugin ...`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin crate that builds with one command and passes `warden inspect`.
    New(crate::scaffold::NewArgs),
    /// Upload a component as a new version (shows progress for large files).
    #[command(disable_version_flag = true)]
    Push {
        /// The component file.
        file: PathBuf,
        /// The plugin's name.
        #[arg(long)]
        name: String,
        /// Its version (semver).
        #[arg(long)]
        version: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// The world you expect it to implement (refused if it implements another).
        #[arg(long)]
        world: Option<String>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// List the plugins (built-ins and your tenant's).
    Ls {
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// `warden template ...`.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create a new version of a template in the prompt registry.
    Push {
        /// The template's name.
        name: String,
        /// The template text.
        #[arg(short = 't', long = "template", conflicts_with_all = ["file", "chat"])]
        text: Option<String>,
        /// A file holding the template text.
        #[arg(short = 'f', long, conflicts_with = "chat")]
        file: Option<PathBuf>,
        /// A JSON file of chat messages (`[{"role": …, "content": …}]`).
        #[arg(long)]
        chat: Option<PathBuf>,
        /// A JSON Schema file for the variables.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// The template-engine plugin to pin (`name@version`); default the built-in.
        #[arg(long)]
        engine: Option<String>,
        /// A label to point at the new version (repeatable).
        #[arg(long = "label")]
        labels: Vec<String>,
        /// The commit message.
        #[arg(short = 'm', long, default_value = "")]
        message: String,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// Render a template version (default: the `production` label, then `latest`).
    #[command(disable_version_flag = true)]
    Render {
        /// The template's name.
        name: String,
        /// The variables, a JSON object.
        #[arg(long, default_value = "{}", conflicts_with = "vars_file")]
        vars: String,
        /// A file holding the variables.
        #[arg(long)]
        vars_file: Option<PathBuf>,
        /// A label.
        #[arg(long, conflicts_with = "version")]
        label: Option<String>,
        /// A version number.
        #[arg(long)]
        version: Option<u64>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// `warden pii ...`.
#[derive(Debug, Subcommand)]
pub enum PiiCommand {
    /// Detect personal data on the server (built-in plus uploaded detectors and dictionaries).
    Detect {
        /// The text.
        #[arg(long, conflicts_with = "file")]
        text: Option<String>,
        /// A file holding the text.
        #[arg(long)]
        file: Option<PathBuf>,
        /// A detector to run (repeatable): `pii` (the built-in) or `name@version`.
        #[arg(long = "detector")]
        detectors: Vec<String>,
        /// Only this entity type (repeatable).
        #[arg(long = "entity")]
        entities: Vec<String>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// `warden pipeline ...`.
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Import a pipeline from a YAML export (idempotent: existing identical versions are kept).
    Import {
        /// The YAML file (`-` for stdin).
        file: PathBuf,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
    /// Run a pipeline (default: the `production` label, then `latest`); prints the output and
    /// the per-step trace.
    #[command(disable_version_flag = true)]
    Run {
        /// The pipeline's name.
        name: String,
        /// The run variables, a JSON object.
        #[arg(long, default_value = "{}")]
        vars: String,
        /// A label.
        #[arg(long, conflicts_with = "version")]
        label: Option<String>,
        /// A version number.
        #[arg(long)]
        version: Option<u64>,
        /// The server.
        #[command(flatten)]
        conn: Connection,
    },
}

/// `warden api METHOD PATH`: any request, for what has no subcommand.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET, POST, PUT or DELETE.
    pub method: String,
    /// The path, such as `/v1/sessions`.
    pub path: String,
    /// A JSON body.
    #[arg(short = 'd', long, conflicts_with = "data_file")]
    pub data: Option<String>,
    /// A file holding the JSON body (`-` for stdin).
    #[arg(long)]
    pub data_file: Option<PathBuf>,
    /// The server.
    #[command(flatten)]
    pub conn: Connection,
}

fn client() -> Result<reqwest::blocking::Client, Failure> {
    // One process-wide crypto provider for https servers; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}

fn url(conn: &Connection, path: &str) -> String {
    format!("{}{path}", conn.server.trim_end_matches('/'))
}

fn authed(
    conn: &Connection,
    req: reqwest::blocking::RequestBuilder,
) -> Result<reqwest::blocking::RequestBuilder, Failure> {
    let token = conn.token.as_deref().ok_or_else(|| {
        Failure::usage(
            "no token: pass --token or set WARDEN_TOKEN (mint one with `warden token issue`)",
        )
    })?;
    Ok(req.bearer_auth(token))
}

/// Sends, prints the JSON answer and maps the status to an exit code.
fn finish(conn: &Connection, req: reqwest::blocking::RequestBuilder) -> Result<u8, Failure> {
    let resp = req.send().map_err(|e| {
        Failure::usage(format!(
            "cannot reach the server at {}: {e} (is `warden serve` running? see --server)",
            conn.server
        ))
    })?;
    let status = resp.status();
    let text = resp
        .text()
        .map_err(|e| Failure::usage(format!("reading the server's answer: {e}")))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    print_json(&body);
    if status.is_success() {
        Ok(0)
    } else {
        let detail = body["detail"].as_str().unwrap_or("");
        let title = body["title"].as_str().unwrap_or("request refused");
        eprintln!("error: {} {title}: {detail}", status.as_u16());
        Ok(1)
    }
}

/// Fetches every page of a list endpoint (following `X-Next-Cursor`), prints the items as one
/// JSON array and maps the status to an exit code, as [`finish`] does for one answer.
fn list_all(conn: &Connection, path: &str) -> Result<u8, Failure> {
    let http = client()?;
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut target = format!("{path}?limit=1000");
        if let Some(c) = &cursor {
            // Cursors are names and ids: `[a-z0-9._-]`, nothing to escape; refuse anything else.
            if !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(Failure::usage(format!(
                    "the server sent an unexpected cursor {c:?}"
                )));
            }
            target.push_str("&cursor=");
            target.push_str(c);
        }
        let req = authed(conn, http.get(url(conn, &target)))?;
        let resp = req.send().map_err(|e| {
            Failure::usage(format!(
                "cannot reach the server at {}: {e} (is `warden serve` running? see --server)",
                conn.server
            ))
        })?;
        if !resp.status().is_success() {
            // Print the problem as a single answer would be printed.
            let req = authed(conn, http.get(url(conn, path)))?;
            return finish(conn, req);
        }
        let next = resp
            .headers()
            .get("x-next-cursor")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let page: Value = resp
            .json()
            .map_err(|e| Failure::usage(format!("reading the server's answer: {e}")))?;
        if let Value::Array(a) = page {
            items.extend(a);
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    print_json(&Value::Array(items));
    Ok(0)
}

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("reading {what} from stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {what} {}: {e}", path.display())))
}

fn parse_json(text: &str, what: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::usage(format!("{what} is not JSON: {e}")))
}

/// A reader that advances a progress bar as the upload body is read.
struct Progress<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        if n == 0 {
            self.bar.finish_and_clear();
        }
        Ok(n)
    }
}

/// Runs `warden plugin …`.
pub fn plugin(cmd: PluginCommand) -> Result<u8, Failure> {
    match cmd {
        PluginCommand::New(args) => crate::scaffold::new(&args),
        PluginCommand::Ls { conn } => list_all(&conn, "/v1/plugins"),
        PluginCommand::Push {
            file,
            name,
            version,
            description,
            world,
            conn,
        } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
            let len = f
                .metadata()
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?
                .len();
            let bar = if std::io::stderr().is_terminal() && len > (1 << 20) {
                let bar = indicatif::ProgressBar::new(len);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "uploading {bar:40} {bytes}/{total_bytes} ({bytes_per_sec})",
                ) {
                    bar.set_style(style);
                }
                bar
            } else {
                indicatif::ProgressBar::hidden()
            };
            let body = reqwest::blocking::Body::sized(Progress { inner: f, bar }, len);
            let path = format!("/v1/plugins/{name}/versions/{version}");
            let mut req = client()?
                .post(url(&conn, &path))
                .header("content-type", "application/wasm")
                .body(body);
            if let Some(d) = description {
                req = req.header("x-warden-description", d);
            }
            if let Some(w) = world {
                req = req.header("x-warden-world", w);
            }
            finish(&conn, authed(&conn, req)?)
        }
    }
}

/// Runs `warden template …`.
pub fn template(cmd: TemplateCommand) -> Result<u8, Failure> {
    match cmd {
        TemplateCommand::Push {
            name,
            text,
            file,
            chat,
            schema,
            engine,
            labels,
            message,
            conn,
        } => {
            let mut body = json!({"message": message, "labels": labels});
            match (text, file, chat) {
                (Some(t), _, _) => body["template"] = json!(t),
                (_, Some(f), _) => body["template"] = json!(read(&f, "template")?),
                (_, _, Some(c)) => {
                    body["messages"] = parse_json(&read(&c, "chat messages")?, "the chat file")?
                }
                _ => {
                    return Err(Failure::usage(
                        "give the template with -t TEXT, -f FILE or --chat FILE",
                    ));
                }
            }
            if let Some(s) = schema {
                body["variables_schema"] = parse_json(&read(&s, "schema")?, "the schema")?;
            }
            if let Some(e) = engine {
                body["engine"] = json!(e);
            }
            let path = format!("/v1/templates/{name}/versions");
            let req = authed(&conn, client()?.post(url(&conn, &path)).json(&body))?;
            finish(&conn, req)
        }
        TemplateCommand::Render {
            name,
            vars,
            vars_file,
            label,
            version,
            conn,
        } => {
            let vars = match vars_file {
                Some(f) => read(&f, "variables")?,
                None => vars,
            };
            run_versioned(
                &conn,
                &format!("/v1/templates/{name}/render"),
                &vars,
                label,
                version,
            )
        }
    }
}

/// POSTs `{"variables", "label"?, "version"?}` to a render or run endpoint of a versioned object.
fn run_versioned(
    conn: &Connection,
    path: &str,
    vars: &str,
    label: Option<String>,
    version: Option<u64>,
) -> Result<u8, Failure> {
    let mut body = json!({"variables": parse_json(vars, "the variables")?});
    if let Some(l) = label {
        body["label"] = json!(l);
    }
    if let Some(v) = version {
        body["version"] = json!(v);
    }
    let req = authed(conn, client()?.post(url(conn, path)).json(&body))?;
    finish(conn, req)
}

/// Runs `warden pii …`.
pub fn pii(cmd: PiiCommand) -> Result<u8, Failure> {
    let PiiCommand::Detect {
        text,
        file,
        detectors,
        entities,
        conn,
    } = cmd;
    let text = match (text, file) {
        (Some(t), _) => t,
        (None, Some(f)) => read(&f, "text")?,
        (None, None) => read(Path::new("-"), "text")?,
    };
    let mut body = json!({"text": text, "entities": entities});
    if !detectors.is_empty() {
        body["detectors"] = json!(detectors);
    }
    let req = authed(
        &conn,
        client()?.post(url(&conn, "/v1/pii/detect")).json(&body),
    )?;
    finish(&conn, req)
}

/// Runs `warden pipeline …`.
pub fn pipeline(cmd: PipelineCommand) -> Result<u8, Failure> {
    match cmd {
        PipelineCommand::Import { file, conn } => {
            let yaml = read(&file, "pipeline export")?;
            let req = client()?
                .post(url(&conn, "/v1/pipelines/import"))
                .header("content-type", "application/yaml")
                .body(yaml);
            finish(&conn, authed(&conn, req)?)
        }
        PipelineCommand::Run {
            name,
            vars,
            label,
            version,
            conn,
        } => run_versioned(
            &conn,
            &format!("/v1/pipelines/{name}/run"),
            &vars,
            label,
            version,
        ),
    }
}

/// Runs `warden api …`.
pub fn api(args: ApiArgs) -> Result<u8, Failure> {
    let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::usage(format!("`{}` is not an HTTP method", args.method)))?;
    if !args.path.starts_with('/') {
        return Err(Failure::usage(
            "the path must start with `/`, such as /v1/sessions",
        ));
    }
    let mut req = client()?.request(method, url(&args.conn, &args.path));
    let data = match (args.data, args.data_file) {
        (Some(d), _) => Some(d),
        (None, Some(f)) => Some(read(&f, "body")?),
        _ => None,
    };
    if let Some(d) = data {
        req = req.json(&parse_json(&d, "the body")?);
    }
    finish(&args.conn, authed(&args.conn, req)?)
}
