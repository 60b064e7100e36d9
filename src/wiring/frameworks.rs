//! Request instrumentation where the program builds its app: the module's
//! piece for each framework `init` detected, or the lines to add.

use super::{Context, edits::Edits};
use crate::{
    analysis::apps::{How, Place, Sites},
    detect::Framework,
};

/// What became of the frameworks.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(super) added: Vec<String>,
    pub(super) notes: Vec<String>,
    /// Servers whose requests stay untraced until the user adds the piece.
    pub(super) untraced: Vec<&'static str>,
}

pub(super) fn wire(cx: &Context<'_>, edits: &mut Edits<'_>, frameworks: &[Framework]) -> Outcome {
    let mut outcome = Outcome::default();
    for &framework in frameworks {
        match cx.program.app_sites(framework) {
            Sites::AlreadyDone => {}
            Sites::At(places) => match places.iter().find_map(|p| too_wide(cx, edits, p)) {
                Some(reason) => outcome.by_hand(framework, &reason),
                None => {
                    for place in places {
                        outcome.added.push(add(cx, edits, framework, &place));
                    }
                }
            },
            Sites::Nowhere(reason) => outcome.by_hand(framework, &reason),
            Sites::NoServer => {
                let used = cx
                    .program
                    .files
                    .iter()
                    .any(|f| f.text.contains(framework.piece()));
                if !used {
                    outcome.notes.push(format!(
                        "to trace {} requests, use the module's piece:\n{}",
                        framework.crate_display(),
                        indent(framework.usage())
                    ));
                }
            }
        }
    }
    outcome
}

impl Outcome {
    /// No safe place: why, and the lines to add.
    fn by_hand(&mut self, framework: Framework, reason: &str) {
        self.notes.push(format!(
            "{reason}: add the {} piece yourself, where the app is built:\n{}",
            framework.crate_display(),
            indent(framework.server_usage())
        ));
        self.untraced.push(framework.crate_display());
    }
}

/// rustfmt's `max_width`: a longer line would be laid out anew.
const WIDTH: usize = 100;
/// rustfmt's `fn_call_width`: wider arguments go over lines.
const CALL_WIDTH: usize = 60;

/// Why the piece would not fit at `place` as rustfmt lays code out.
fn too_wide(cx: &Context<'_>, edits: &mut Edits<'_>, place: &Place) -> Option<String> {
    let program = cx.program;
    let file = program.file_of(place.function);
    let (line, width, arguments) = match &place.how {
        How::Append { .. } => return None,
        How::Wrap {
            start,
            arguments,
            widens,
        } => {
            let added = hyper_service(cx, place).chars().count() + 1;
            let line = edits.index(file).line_len(start.line) + added;
            (start.line, line, arguments + usize::from(*widens) * added)
        }
        How::Rebind { name, indent_like } => {
            let indent = edits
                .index(file)
                .indentation(indent_like.line)
                .chars()
                .count();
            let call = rebind(cx, place, name).chars().count();
            (place.after.line, indent + call, 0)
        }
    };
    (width > WIDTH || arguments > CALL_WIDTH).then(|| {
        format!(
            "the hyper service at `{}` would not fit on its line wrapped",
            program.at(place.function, line)
        )
    })
}

/// `otel::hyper_service(`, as the place's module names it.
fn hyper_service(cx: &Context<'_>, place: &Place) -> String {
    let otel = cx.otel_path(cx.program.functions[place.function].module);
    format!("{otel}::hyper_service(")
}

fn rebind(cx: &Context<'_>, place: &Place, name: &str) -> String {
    format!("let {name} = {}{name});", hyper_service(cx, place))
}

/// The piece at one place; what the report says about it.
fn add(cx: &Context<'_>, edits: &mut Edits<'_>, framework: Framework, place: &Place) -> String {
    let program = cx.program;
    let otel = cx.otel_path(program.functions[place.function].module);
    let file = program.file_of(place.function);
    let at = program.at(place.function, place.after.line);
    let (call, what) = match &place.how {
        How::Wrap { start, .. } => {
            let open = hyper_service(cx, place);
            let offset = edits.offset(file, *start);
            edits.insert(file, offset, open.clone());
            let offset = edits.offset(file, place.after);
            edits.insert(file, offset, ")".to_owned());
            let at = program.at(place.function, start.line);
            return format!("`{open}..)` around the hyper service at `{at}`");
        }
        How::Rebind { name, indent_like } => {
            let call = rebind(cx, place, name);
            edits.append(file, place.after, Some(*indent_like), &call);
            return format!("`{call}` after the hyper service at `{at}`");
        }
        How::Append { indent_like } => {
            let (call, what) = match framework {
                Framework::ActixWeb => (format!(".wrap({otel}::actix_tracing())"), "`App`"),
                Framework::Tonic => (
                    format!(".layer({otel}::grpc_server_layer())"),
                    "gRPC server",
                ),
                _ => (format!(".layer({otel}::http_layer())"), "`Router`"),
            };
            edits.append(file, place.after, *indent_like, &call);
            (call, what)
        }
    };
    format!("`{call}` on the {what} at `{at}`")
}

fn indent(lines: &str) -> String {
    lines
        .lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
