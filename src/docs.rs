//! The builtin reference (`tgscript docs`, REPL `:help`), generated from the metadata Rhai keeps
//! for each registered function: no second, hand-written list.

use crate::engine::ScriptEngine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One registered builtin (one entry per overload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltinDoc {
    /// Function name as scripts call it.
    pub name: String,
    /// Signature as Rhai renders it, e.g. `sleep(seconds: INT)`.
    pub signature: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// Return type, when not `()`.
    pub returns: Option<String>,
    /// Documentation text (Markdown, with a `rhai` example).
    pub doc: String,
}

/// One parameter of a builtin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Parameter name.
    pub name: String,
    /// Parameter type, as documented.
    #[serde(rename = "type")]
    pub ty: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    functions: Vec<FnMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMetadata {
    name: String,
    #[serde(default)]
    params: Vec<ParamMetadata>,
    return_type: Option<String>,
    signature: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct ParamMetadata {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
}

/// Every tgscript builtin registered in `engine` (not Rhai's standard library), sorted by name.
pub fn builtins(engine: &ScriptEngine) -> Vec<BuiltinDoc> {
    let json = engine
        .rhai()
        .gen_fn_metadata_to_json(false)
        .unwrap_or_else(|_| "{}".to_string());
    let metadata: Metadata = serde_json::from_str(&json).unwrap_or(Metadata {
        functions: Vec::new(),
    });
    let mut docs: Vec<BuiltinDoc> = metadata
        .functions
        .into_iter()
        // Property getters (`asset.name`) are documented with the builtin making the value.
        .filter(|f| !f.name.starts_with("get$") && !f.name.starts_with("set$"))
        .map(|f| BuiltinDoc {
            params: f
                .params
                .into_iter()
                .map(|p| Param {
                    name: p.name.unwrap_or_else(|| "_".to_string()),
                    ty: p.ty,
                })
                .collect(),
            returns: f.return_type.filter(|t| t != "()"),
            doc: doc_text(&f.doc_comments),
            signature: f.signature,
            name: f.name,
        })
        .collect();
    docs.sort_by(|a, b| a.name.cmp(&b.name).then(a.signature.cmp(&b.signature)));
    docs
}

/// The overloads of builtin `name` (empty when there is no such builtin).
pub fn lookup(engine: &ScriptEngine, name: &str) -> Vec<BuiltinDoc> {
    builtins(engine)
        .into_iter()
        .filter(|d| d.name == name)
        .collect()
}

/// Strip the `///` leaders Rhai keeps on doc comments.
fn doc_text(comments: &[String]) -> String {
    comments
        .iter()
        .flat_map(|block| block.lines())
        .map(|line| {
            let line = line.trim_start().trim_start_matches("///");
            line.strip_prefix(' ').unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The reference as Markdown: one section per builtin name, overloads' signatures together.
pub fn to_markdown(docs: &[BuiltinDoc]) -> String {
    let mut out = String::from(
        "# tgscript builtins\n\nGenerated from the registered functions (`tgscript docs`). \
         Rhai's standard library (strings, arrays, maps, math) is available too: \
         see https://rhai.rs/book/.\n",
    );
    let mut i = 0;
    while i < docs.len() {
        let name = &docs[i].name;
        let group: Vec<&BuiltinDoc> = docs[i..].iter().take_while(|d| &d.name == name).collect();
        i += group.len();
        out.push_str(&format!("\n## `{name}`\n\n"));
        for d in &group {
            out.push_str(&format!("- `{}`\n", d.signature));
        }
        let mut shown: Vec<&str> = Vec::new();
        for d in &group {
            if !shown.contains(&d.doc.as_str()) {
                out.push('\n');
                out.push_str(&d.doc);
                out.push('\n');
                shown.push(&d.doc);
            }
        }
    }
    out
}

/// The reference as pretty JSON: `{"builtins": [...]}`.
pub fn to_json(docs: &[BuiltinDoc]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "builtins": docs }))
        .unwrap_or_else(|_| "{}".to_string())
}

/// Each stdlib module: its import line, its constants (with their values) and its functions
/// (with their doc comments), as JSON (`tgscript docs`, REPL `:help time::parse_duration`).
pub fn stdlib_json(engine: &ScriptEngine) -> Value {
    let rhai = engine.rhai();
    crate::stdlib::MODULES
        .iter()
        .map(|(name, source)| {
            let ast = rhai.compile(*source).unwrap_or_default();
            let constants: Map<String, Value> =
                rhai::Module::eval_ast_as_new(rhai::Scope::new(), &ast, rhai)
                    .map(|module| {
                        module
                            .iter_var()
                            .map(|(k, v)| {
                                (k.to_string(), serde_json::to_value(v).unwrap_or_default())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            let functions: Vec<Value> = ast
                .iter_functions()
                .filter(|f| f.access != rhai::FnAccess::Private)
                .map(|f| {
                    let doc: Vec<&str> = f
                        .comments
                        .iter()
                        .flat_map(|c| c.lines())
                        .map(|line| line.trim().trim_start_matches('/').trim())
                        .collect();
                    json!({"name": f.name, "params": f.params, "doc": doc.join("\n")})
                })
                .collect();
            json!({"module": name, "import": format!("import \"{name}\" as {name};"),
                "constants": constants, "functions": functions})
        })
        .collect()
}
