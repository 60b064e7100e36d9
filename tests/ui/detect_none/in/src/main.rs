fn main() {
    println!("no frameworks here");
}
