//! Where a program listens for connections, and whether it does so on every
//! run or only in some of its commands: `mdbook build` is a command whose run
//! is one trace, `mdbook serve` a server in the same binary.

use std::collections::BTreeSet;

use proc_macro2::LineColumn;
use syn::{spanned::Spanned as _, visit::Visit};

use super::{FnId, Program};

/// Paths whose call starts listening, as their last two segments.
const LISTENERS: [(&str, &str); 4] = [
    ("TcpListener", "bind"),
    ("UdpSocket", "bind"),
    ("HttpServer", "new"),
    ("Server", "builder"),
];

/// The same, as they read in a macro's tokens (which syn leaves unparsed),
/// with `axum::serve(..)`-style free functions.
const LISTENER_TOKENS: [&str; 5] = [
    "TcpListener :: bind",
    "UdpSocket :: bind",
    "HttpServer :: new",
    "Server :: builder",
    ":: serve (",
];

/// What `main` reaches, as far as serving goes.
#[derive(Debug, Default)]
pub(super) struct Serving {
    /// Reached functions that listen, themselves or through a call.
    pub leads_to_listening: BTreeSet<FnId>,
    /// Reached functions that listen on every path through them that is not
    /// one branch of a choice whose other branches do not listen.
    pub listens_unconditionally: BTreeSet<FnId>,
}

pub(super) fn serving(program: &Program) -> Serving {
    let functions: Vec<(FnId, Body, Vec<super::Call>)> = program
        .reach
        .reached
        .keys()
        .map(|&id| {
            let mut body = Body::default();
            body.visit_block(&program.functions[id].block);
            let calls = program
                .calls(id)
                .into_iter()
                .filter(|c| program.reach.contains(c.callee))
                .collect();
            (id, body, calls)
        })
        .collect();
    let mut serving = Serving::default();
    fixpoint(
        &mut serving.leads_to_listening,
        &functions,
        |body, calls, set| {
            !body.listens.is_empty() || calls.iter().any(|c| set.contains(&c.callee))
        },
    );
    let leads = serving.leads_to_listening.clone();
    fixpoint(
        &mut serving.listens_unconditionally,
        &functions,
        |body, calls, set| {
            let points: Vec<LineColumn> = (body.listens.iter().copied())
                .chain(
                    calls
                        .iter()
                        .filter(|c| leads.contains(&c.callee))
                        .map(|c| c.start),
                )
                .collect();
            let open = |at: LineColumn| !body.in_a_split(at, &points);
            body.listens.iter().any(|&at| open(at))
                || calls
                    .iter()
                    .any(|c| set.contains(&c.callee) && open(c.start))
        },
    );
    serving
}

/// Grows `set` with the functions for which `holds` is true until nothing
/// changes (calls may form cycles).
fn fixpoint(
    set: &mut BTreeSet<FnId>,
    functions: &[(FnId, Body, Vec<super::Call>)],
    holds: impl Fn(&Body, &[super::Call], &BTreeSet<FnId>) -> bool,
) {
    loop {
        let before = set.len();
        for (id, body, calls) in functions {
            if !set.contains(id) && holds(body, calls, set) {
                set.insert(*id);
            }
        }
        if set.len() == before {
            return;
        }
    }
}

type Arm = Option<(LineColumn, LineColumn)>;

/// One function body: where it listens, and its choices.
#[derive(Debug, Default)]
struct Body {
    listens: Vec<LineColumn>,
    /// The arms of each `match` and `if` (an `if` without `else` has an
    /// empty one, `None`).
    choices: Vec<Vec<Arm>>,
}

impl Body {
    /// Whether `at` is inside an arm of a choice that has an arm holding
    /// none of `points`: a subcommand, where the others do something else.
    fn in_a_split(&self, at: LineColumn, points: &[LineColumn]) -> bool {
        let inside = |arm: &Arm, at: LineColumn| arm.is_some_and(|(s, e)| s <= at && at <= e);
        self.choices.iter().any(|arms| {
            arms.iter().any(|arm| inside(arm, at))
                && arms
                    .iter()
                    .any(|arm| !points.iter().any(|&p| inside(arm, p)))
        })
    }
}

impl<'ast> Visit<'ast> for Body {
    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        let segments: Vec<String> = expr
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if let [.., ty, function] = segments.as_slice()
            && LISTENERS.contains(&(ty.as_str(), function.as_str()))
        {
            self.listens.push(expr.span().start());
        }
        syn::visit::visit_expr_path(self, expr);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func
            && path.path.segments.len() >= 2
            && path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "serve")
        {
            self.listens.push(call.span().start());
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let tokens = mac.tokens.to_string();
        if LISTENER_TOKENS.iter().any(|word| tokens.contains(word)) {
            self.listens.push(mac.span().start());
        }
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        let arms = expr
            .arms
            .iter()
            .map(|arm| Some((arm.body.span().start(), arm.body.span().end())))
            .collect();
        self.choices.push(arms);
        syn::visit::visit_expr_match(self, expr);
    }

    fn visit_expr_if(&mut self, expr: &'ast syn::ExprIf) {
        let then = &expr.then_branch;
        let otherwise = expr
            .else_branch
            .as_ref()
            .map(|(_, e)| (e.span().start(), e.span().end()));
        self.choices.push(vec![
            Some((then.span().start(), then.span().end())),
            otherwise,
        ]);
        syn::visit::visit_expr_if(self, expr);
    }
}
