//! Request instrumentation where the program builds its app: the module's
//! piece for each framework `init` detected, or the lines to add.

use super::{Context, edits::Edits};
use crate::{
    analysis::apps::{Place, Sites},
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
            Sites::At(places) => {
                for place in places {
                    outcome.added.push(add(cx, edits, framework, &place));
                }
            }
            Sites::Nowhere(reason) => {
                outcome.notes.push(format!(
                    "{reason}: add the {} piece yourself, where the app is built:\n{}",
                    framework.crate_display(),
                    indent(framework.usage())
                ));
                outcome.untraced.push(framework.crate_display());
            }
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

/// The piece at one place; what the report says about it.
fn add(cx: &Context<'_>, edits: &mut Edits<'_>, framework: Framework, place: &Place) -> String {
    let program = cx.program;
    let otel = cx.otel_path(program.functions[place.function].module);
    let (call, what) = match framework {
        Framework::ActixWeb => (format!(".wrap({otel}::actix_tracing())"), "`App`"),
        Framework::Tonic => (
            format!(".layer({otel}::grpc_server_layer())"),
            "gRPC server",
        ),
        _ => (format!(".layer({otel}::http_layer())"), "`Router`"),
    };
    let file = program.file_of(place.function);
    edits.append(file, place.after, place.indent_like, &call);
    let at = program.at(place.function, place.after.line);
    format!("`{call}` on the {what} at `{at}`")
}

fn indent(lines: &str) -> String {
    lines
        .lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
