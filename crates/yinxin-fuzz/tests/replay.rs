//! Every fuzz target's corpus (`fuzz/corpus/NAME/`: seeds made by `fuzz/seed-corpus.sh` from
//! real peers and the platform, and every input that ever crashed a target) replayed as an
//! ordinary test on the stable toolchain, in every CI run.

use std::path::PathBuf;

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn every_target_replays_its_corpus_without_panicking() {
    let mut total = 0;
    for (name, target) in yinxin_fuzz::TARGETS {
        let dir = corpus_root().join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no corpus for target {name} at {}: {e}", dir.display()));
        let mut files = 0;
        for entry in entries {
            let path = entry.expect("a corpus entry").path();
            let data = std::fs::read(&path).expect("a readable corpus file");
            target(&data);
            // Every prefix too: truncation is the commonest bad input.
            for cut in [0, 1, data.len() / 2, data.len().saturating_sub(1)] {
                target(&data[..cut.min(data.len())]);
            }
            files += 1;
        }
        assert!(files > 0, "target {name} has an empty corpus");
        total += files;
    }
    eprintln!(
        "replayed {total} corpus files over {} targets",
        yinxin_fuzz::TARGETS.len()
    );
}
