//! Making sure the dashboard image is there: `--pull missing|always|never`,
//! with a progress bar per layer on a terminal (like `docker pull`).

use std::{collections::HashMap, io::IsTerminal as _, time::Duration};

use anyhow::bail;
use bollard::{
    Docker, errors::Error, models::CreateImageInfo, query_parameters::CreateImageOptionsBuilder,
};
use futures_util::StreamExt as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{Shell, shell::Verbosity};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PullPolicy {
    #[default]
    Missing,
    Always,
    Never,
}

pub async fn ensure(
    docker: &Docker,
    image: &str,
    policy: PullPolicy,
    shell: &Shell,
) -> anyhow::Result<()> {
    let present = present(docker, image).await?;
    match policy {
        PullPolicy::Never if !present => bail!(
            "image `{image}` is not present and `--pull never` forbids pulling it\nhelp: `docker pull {image}`, or drop `--pull never`"
        ),
        PullPolicy::Never | PullPolicy::Missing if present => return Ok(()),
        _ => {}
    }
    shell.status("Pulling", image);
    pull(docker, image, shell).await
}

pub async fn present(docker: &Docker, image: &str) -> anyhow::Result<bool> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(error) => Err(anyhow::anyhow!(
            "failed to inspect image `{image}`: {error}"
        )),
    }
}

/// `repo[:tag]` or `repo@digest` as the Engine API wants them apart.
fn split(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (&image[..name_start + i], Some(&image[name_start + i + 1..])),
        None => (image, Some("latest")),
    }
}

async fn pull(docker: &Docker, image: &str, shell: &Shell) -> anyhow::Result<()> {
    let (repository, tag) = split(image);
    let mut options = CreateImageOptionsBuilder::default().from_image(repository);
    if let Some(tag) = tag {
        options = options.tag(tag);
    }
    let mut bars = Bars::new(shell);
    let mut stream = docker.create_image(Some(options.build()), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => bars.update(&info),
            // bollard 0.21 can end a complete pull with a spurious I/O error
            // (bollard#560); the image being there settles it.
            Err(Error::IOError { .. }) if present(docker, image).await.unwrap_or(false) => break,
            Err(error) => {
                bars.clear();
                return Err(pull_error(image, &error));
            }
        }
    }
    bars.clear();
    shell.status("Pulled", image);
    Ok(())
}

fn pull_error(image: &str, error: &Error) -> anyhow::Error {
    let text = error.to_string();
    let help = if text.contains("manifest unknown") || text.contains("not found") {
        "the image or tag does not exist; check `--image`"
    } else if text.contains("dial tcp")
        || text.contains("no such host")
        || text.contains("connection refused")
        || text.contains("timeout")
    {
        "the registry cannot be reached (offline?); pull it when online, or pass `--backend local`"
    } else {
        "`docker pull` shows the same error in more detail"
    };
    anyhow::anyhow!("failed to pull `{image}`: {text}\nhelp: {help}")
}

/// One bar per layer under the status column, hidden when stderr is not a
/// terminal or with `--quiet`.
struct Bars {
    multi: MultiProgress,
    layers: HashMap<String, ProgressBar>,
    bytes: ProgressStyle,
    text: ProgressStyle,
}

impl Bars {
    fn new(shell: &Shell) -> Self {
        let visible = shell.verbosity() > Verbosity::Quiet && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bytes = ProgressStyle::with_template(
            "{prefix:>12} {msg:<12} [{bar:30}] {bytes:>9}/{total_bytes:<9}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        let text = ProgressStyle::with_template("{prefix:>12} {msg}").expect("a valid template");
        Self {
            multi: MultiProgress::with_draw_target(target),
            layers: HashMap::new(),
            bytes,
            text,
        }
    }

    fn update(&mut self, info: &CreateImageInfo) {
        let (Some(id), Some(status)) = (info.id.as_deref(), info.status.as_deref()) else {
            return;
        };
        if status.starts_with("Pulling from") {
            return;
        }
        let bar = self.layer(id);
        let detail = info.progress_detail.as_ref();
        let (current, total) = (
            detail.and_then(|d| d.current).unwrap_or(0),
            detail.and_then(|d| d.total).unwrap_or(0),
        );
        match status {
            "Downloading" | "Extracting" if total > 0 => {
                bar.set_style(self.bytes.clone());
                bar.set_length(u64::try_from(total).unwrap_or(0));
                bar.set_position(u64::try_from(current.clamp(0, total)).unwrap_or(0));
                bar.set_message(status.to_owned());
            }
            "Pull complete" | "Already exists" => {
                bar.set_style(self.text.clone());
                bar.finish_with_message(status.to_owned());
            }
            other => bar.set_message(other.to_owned()),
        }
    }

    fn layer(&mut self, id: &str) -> ProgressBar {
        let (multi, text) = (&self.multi, &self.text);
        let bar = self.layers.entry(id.to_owned()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(text.clone());
            bar.set_prefix(id.chars().take(12).collect::<String>());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.clone()
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn image_references_split_into_repository_and_tag() {
        assert_eq!(
            split("mcr.microsoft.com/dotnet/aspire-dashboard:13"),
            ("mcr.microsoft.com/dotnet/aspire-dashboard", Some("13"))
        );
        assert_eq!(
            split("127.0.0.1:5000/aspire"),
            ("127.0.0.1:5000/aspire", Some("latest"))
        );
        assert_eq!(split("repo@sha256:abc"), ("repo@sha256:abc", None));
    }
}
