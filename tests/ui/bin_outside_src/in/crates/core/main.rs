mod flags;

fn main() {
    let pattern = flags::pattern();
    println!("searching for {pattern}");
}
