fn main() {
    suite::run();
}
