pub fn tick(_: u32) {}
