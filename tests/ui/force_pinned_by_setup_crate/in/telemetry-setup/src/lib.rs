pub fn install() {}
