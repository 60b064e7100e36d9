//! Where a value is built: from a variable to its `let`, from a parameter to
//! the arguments its callers pass, from a call of the crate's own function to
//! what that function returns. For the subscriber a program hands to
//! `set_global_default` and the router it hands to `serve`, so layers are
//! added where the value is built, whose type is known there.

use proc_macro2::LineColumn;
use syn::{
    Expr, ReturnType, Stmt,
    spanned::Spanned as _,
    visit::{self, Visit},
};

use super::{Call, FnId, Program, installs};

/// Where a value is built.
#[derive(Clone)]
pub struct Origin {
    pub function: FnId,
    pub start: LineColumn,
    pub end: LineColumn,
    /// The expression that builds it.
    pub expr: Expr,
    /// A declared type on the way (`let x: T`, a function returning a named
    /// type) would no longer fit once something is appended to the value.
    pub typed: bool,
}

/// Whether an expression (in a function) is where the value is built.
pub(super) type Accept<'a> = &'a dyn Fn(FnId, &Expr) -> bool;

/// How many steps (variables, parameters, calls) are followed at most.
const DEPTH: usize = 8;

impl Program {
    /// Where the value of `expr` (in `function`) is built: the first
    /// expression on the way back that `accept` takes.
    pub fn origin(&self, function: FnId, expr: &Expr, accept: Accept<'_>) -> Option<Origin> {
        self.trace(function, expr, accept, false, 0)
    }

    fn trace(
        &self,
        function: FnId,
        expr: &Expr,
        accept: Accept<'_>,
        typed: bool,
        depth: usize,
    ) -> Option<Origin> {
        if depth > DEPTH {
            return None;
        }
        let expr = peel(expr);
        if accept(function, expr) {
            return Some(Origin {
                function,
                start: expr.span().start(),
                end: expr.span().end(),
                expr: expr.clone(),
                typed,
            });
        }
        match expr {
            Expr::Path(_) => {
                let name = installs::variable(expr)?;
                if let Some((init, annotated)) = self.binding(function, &name, expr.span().start())
                {
                    return self.trace(function, &init, accept, typed || annotated, depth + 1);
                }
                let (index, concrete) = self.parameter(function, &name)?;
                self.callers(function)
                    .into_iter()
                    .find_map(|(caller, call)| {
                        let argument = self.argument(caller, &call, index)?;
                        self.trace(caller, &argument, accept, typed || concrete, depth + 1)
                    })
            }
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return None;
                };
                let callee = self.unique_callee(function, &path.path)?;
                let tail = tail(&self.functions[callee].block)?;
                let named = !opaque(&self.functions[callee].sig.output);
                self.trace(callee, &tail, accept, typed || named, depth + 1)
            }
            Expr::Block(block) => {
                let tail = tail(&block.block)?;
                self.trace(function, &tail, accept, typed, depth + 1)
            }
            _ => None,
        }
    }

    /// The functions of the crate a path in `function`'s body may name.
    pub(super) fn callees(&self, function: FnId, path: &syn::Path) -> Vec<FnId> {
        let f = &self.functions[function];
        self.resolver()
            .functions_named(f.module, path, f.owner.as_deref())
    }

    /// The function a path in `function`'s body names, if exactly one.
    pub(super) fn unique_callee(&self, function: FnId, path: &syn::Path) -> Option<FnId> {
        let active: Vec<FnId> = self
            .callees(function, path)
            .into_iter()
            .filter(|id| self.functions[*id].inactive.is_none())
            .collect();
        match active.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The last `let name = ..` before `before` in the function's body, and
    /// whether it declares a type.
    pub(super) fn binding(
        &self,
        function: FnId,
        name: &str,
        before: LineColumn,
    ) -> Option<(Expr, bool)> {
        struct Bindings<'n> {
            name: &'n str,
            before: LineColumn,
            found: Option<(Expr, bool)>,
        }
        impl<'ast> Visit<'ast> for Bindings<'_> {
            fn visit_local(&mut self, local: &'ast syn::Local) {
                let named = installs::binding(&local.pat).is_some_and(|n| n == self.name);
                if named
                    && local.span().end() <= self.before
                    && let Some(init) = &local.init
                {
                    let annotated = matches!(local.pat, syn::Pat::Type(_));
                    self.found = Some(((*init.expr).clone(), annotated));
                }
                visit::visit_local(self, local);
            }
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut bindings = Bindings {
            name,
            before,
            found: None,
        };
        bindings.visit_block(&self.functions[function].block);
        bindings.found
    }

    /// A parameter's position (methods count `self`) and whether its type
    /// is a named one rather than `impl Trait`.
    fn parameter(&self, function: FnId, name: &str) -> Option<(usize, bool)> {
        let inputs = &self.functions[function].sig.inputs;
        inputs
            .iter()
            .enumerate()
            .find_map(|(i, input)| match input {
                syn::FnArg::Typed(typed)
                    if installs::binding(&typed.pat).as_deref() == Some(name) =>
                {
                    let ty = quote::ToTokens::to_token_stream(&typed.ty).to_string();
                    Some((i, !(ty.starts_with("impl ") || ty.contains("dyn "))))
                }
                _ => None,
            })
    }

    /// The calls into `function` that are resolved by path, from functions
    /// `main` reaches.
    pub(super) fn callers(&self, function: FnId) -> Vec<(FnId, Call)> {
        self.reach
            .reached
            .keys()
            .flat_map(|caller| {
                self.calls(*caller)
                    .into_iter()
                    .filter(|c| c.callee == function && c.certain)
                    .map(move |c| (*caller, c))
            })
            .collect()
    }

    /// The `index`th argument of the plain call `call` in `caller`'s body.
    fn argument(&self, caller: FnId, call: &Call, index: usize) -> Option<Expr> {
        struct Arguments {
            at: LineColumn,
            index: usize,
            found: Option<Expr>,
        }
        impl<'ast> Visit<'ast> for Arguments {
            fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
                if c.func.span().start() == self.at {
                    self.found = c.args.iter().nth(self.index).cloned();
                }
                visit::visit_expr_call(self, c);
            }
        }
        let mut arguments = Arguments {
            at: call.start,
            index,
            found: None,
        };
        arguments.visit_block(&self.functions[caller].block);
        arguments.found
    }
}

/// The expression inside parentheses, a reference or `Box::new(..)`.
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => peel(&paren.expr),
        Expr::Reference(reference) => peel(&reference.expr),
        Expr::Call(call) if call.args.len() == 1 => {
            let boxed = matches!(&*call.func, Expr::Path(p) if {
                let text = quote::ToTokens::to_token_stream(&p.path).to_string();
                text == "Box :: new"
            });
            if boxed { peel(&call.args[0]) } else { expr }
        }
        _ => expr,
    }
}

/// The value a block ends with: its tail expression or a final `return`.
pub(super) fn tail(block: &syn::Block) -> Option<Expr> {
    match block.stmts.last()? {
        Stmt::Expr(Expr::Return(ret), _) => ret.expr.as_deref().cloned(),
        Stmt::Expr(expr, None) => Some(expr.clone()),
        _ => None,
    }
}

/// `-> impl Trait` or `-> Box<dyn Trait>`: the value's own type may change.
fn opaque(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => {
            let text = quote::ToTokens::to_token_stream(ty).to_string();
            text.starts_with("impl ") || text.contains("dyn ")
        }
    }
}
