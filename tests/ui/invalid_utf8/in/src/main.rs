fn main() {
    // Grüße in Latin-1.
    println!("Hello, world!");
}
