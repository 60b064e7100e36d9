mod flags;
mod logger;

fn main() {
    flags::parse();
    log::debug!("searching");
    println!("found");
}
