#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yinxin_fuzz::targets::crl(data));
