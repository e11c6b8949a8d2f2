//! Data: CSV/IDX/NPY readers (and their errors), DataLoader batching,
//! seeded shuffling, drop-last, transforms, splits, standardisation.
#![cfg(feature = "std")]

use edgegrad::data::*;
use edgegrad::train::TrainError;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("edgegrad-data-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn reads_the_digits_csv_with_its_licence_header() {
    let ds = read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits8x8_train.csv"),
        "label",
    )
    .unwrap();
    assert_eq!(ds.len(), 1437);
    assert_eq!(ds.input_shape(), [64]);
    assert_eq!(ds.num_classes(), 10);
    assert!(ds.inputs().iter().all(|&p| (0.0..=16.0).contains(&p)));
    let ds = ds.with_input_shape(&[8, 8, 1]).map_inputs(|p| p / 16.0);
    assert_eq!(ds.input_shape(), [8, 8, 1]);
    assert!(ds.inputs().iter().all(|&p| (0.0..=1.0).contains(&p)));
}

#[test]
fn csv_errors_name_the_file_line_and_column() {
    let p = tmp("bad.csv");
    std::fs::write(&p, "# comment\na,b,label\n1,2,0\n3,x,1\n").unwrap();
    let e = read_csv(&p, "label").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TrainError::Parse { line: 4, .. }), "{msg}");
    assert!(
        msg.contains("bad.csv") && msg.contains("`x`") && msg.contains("column `b`"),
        "{msg}"
    );
    let e = read_csv(&p, "target").unwrap_err().to_string();
    assert!(e.contains("no column named `target`"), "{e}");
    std::fs::write(&p, "a,label\n1,2.5\n").unwrap();
    assert!(read_csv(&p, "label")
        .unwrap_err()
        .to_string()
        .contains("not a class index"));
    assert!(matches!(
        read_csv(tmp("missing.csv"), "label"),
        Err(TrainError::Io { .. })
    ));
}

fn idx_bytes(ty: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

#[test]
fn reads_idx_like_mnist() {
    let (ip, lp) = (tmp("images.idx"), tmp("labels.idx"));
    let pixels: Vec<u8> = (0..2 * 3 * 2).map(|i| i as u8 * 20).collect();
    std::fs::write(&ip, idx_bytes(0x08, &[2, 3, 2], &pixels)).unwrap();
    std::fs::write(&lp, idx_bytes(0x08, &[2], &[7, 3])).unwrap();
    let ds = read_idx(&ip, &lp).unwrap();
    assert_eq!(ds.input_shape(), [3, 2, 1]);
    assert_eq!(ds.labels(), [7, 3]);
    assert_eq!(ds.inputs()[..3], [0.0, 20.0, 40.0]);
    // Float IDX, big-endian.
    let fp = tmp("floats.idx");
    let body: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    std::fs::write(&fp, idx_bytes(0x0D, &[2], &body)).unwrap();
    assert_eq!(read_idx_array(&fp).unwrap(), (vec![2], vec![1.5, -2.0]));
    // Truncated and mismatched files are errors.
    std::fs::write(&ip, idx_bytes(0x08, &[2, 3, 2], &pixels[..5])).unwrap();
    assert!(read_idx(&ip, &lp)
        .unwrap_err()
        .to_string()
        .contains("needs 12 bytes"));
    std::fs::write(&ip, [1u8, 2, 3]).unwrap();
    assert!(read_idx(&ip, &lp)
        .unwrap_err()
        .to_string()
        .contains("bad magic"));
}

fn npy_bytes(descr: &str, shape: &[usize], body: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn reads_npy_inputs_with_class_or_value_targets() {
    let (xp, yp, vp) = (tmp("x.npy"), tmp("y.npy"), tmp("v.npy"));
    let x: Vec<u8> = (0..6)
        .flat_map(|i| (i as f32 * 0.5).to_le_bytes())
        .collect();
    std::fs::write(&xp, npy_bytes("<f4", &[3, 2], &x)).unwrap();
    let y: Vec<u8> = [2i64, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&yp, npy_bytes("<i8", &[3], &y)).unwrap();
    let ds = read_npy(&xp, &yp).unwrap();
    assert_eq!((ds.input_shape(), ds.labels()), (vec![2], vec![2, 0, 1]));
    assert_eq!(ds.inputs(), [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    let v: Vec<u8> = [0.25f64, -1.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&vp, npy_bytes("<f8", &[3, 1], &v)).unwrap();
    let ds = read_npy(&xp, &vp).unwrap();
    assert_eq!(ds.target(1), Target::Values(vec![-1.0]));
    std::fs::write(&yp, b"not npy").unwrap();
    assert!(matches!(read_npy(&xp, &yp), Err(TrainError::Parse { .. })));
}

fn toy(n: usize) -> VecDataset {
    VecDataset::classification(
        (0..n * 2).map(|v| v as f32).collect(),
        &[2],
        &(0..n).map(|i| i % 3).collect::<Vec<_>>(),
    )
}

#[test]
fn loader_batches_in_order_and_drops_last() {
    let ds = toy(10);
    let mut l = DataLoader::new(&ds, 4);
    let b: Vec<Batch> = l.iter().collect();
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].inputs.shape(), [4, 2]);
    assert_eq!(b[2].inputs.shape(), [2, 2]);
    assert_eq!(b[0].targets.classes().unwrap(), [0, 1, 2, 0]);
    assert_eq!(b[1].inputs.to_vec()[..2], [8.0, 9.0]);
    let mut l = DataLoader::new(&ds, 4).drop_last(true);
    assert_eq!(l.num_batches(), 2);
    assert_eq!(l.iter().count(), 2);
}

#[test]
fn shuffling_is_seeded_and_differs_between_epochs() {
    let ds = toy(20);
    let order = |l: &mut DataLoader| -> Vec<f32> {
        l.iter()
            .flat_map(|b| b.inputs.to_vec())
            .step_by(2)
            .collect()
    };
    let mut a = DataLoader::new(&ds, 6).shuffle(true).seed(42);
    let mut b = DataLoader::new(&ds, 6).shuffle(true).seed(42);
    let (a1, a2) = (order(&mut a), order(&mut a));
    assert_eq!(a1, order(&mut b));
    assert_ne!(a1, a2);
    let mut sorted = a1.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, (0..20).map(|i| i as f32 * 2.0).collect::<Vec<_>>());
}

#[test]
fn value_targets_batch_as_tensors() {
    let ds = VecDataset::new(
        vec![1.0, 2.0, 3.0],
        &[1],
        vec![
            Target::Values(vec![0.5, 1.0]),
            Target::Values(vec![1.5, 2.0]),
            Target::Values(vec![2.5, 3.0]),
        ],
    );
    let mut l = DataLoader::new(&ds, 2);
    let b = l.iter().next().unwrap();
    match b.targets {
        Targets::Values(t) => assert_eq!(
            (t.shape().to_vec(), t.to_vec()),
            (vec![2, 2], vec![0.5, 1.0, 1.5, 2.0])
        ),
        _ => panic!("expected values"),
    }
}

#[test]
fn augmentations() {
    let mut rng = edgegrad::autograd::Rng::seed_from(1);
    // A 3×3 image with one bright pixel in the middle: any shift by ≤ 1 keeps it on the image.
    for _ in 0..20 {
        let mut img = vec![0.0; 9];
        img[4] = 1.0;
        RandomShift { max: 1 }.apply(&mut img, &[3, 3, 1], &mut rng);
        assert_eq!(img.iter().sum::<f32>(), 1.0);
    }
    let mut seq = vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0]; // [len 3, c 2]
    RandomFlip { p: 1.0 }.apply(&mut seq, &[3, 2], &mut rng);
    assert_eq!(seq, [3.0, 30.0, 2.0, 20.0, 1.0, 10.0]);
    let mut img = vec![1.0, 2.0, 3.0, 4.0]; // [2, 2, 1]
    RandomFlip { p: 1.0 }.apply(&mut img, &[2, 2, 1], &mut rng);
    assert_eq!(img, [2.0, 1.0, 4.0, 3.0]);
    RandomFlip { p: 0.0 }.apply(&mut img, &[2, 2, 1], &mut rng);
    assert_eq!(img, [2.0, 1.0, 4.0, 3.0]);
    let mut z = vec![0.0; 4000];
    GaussianNoise { std: 0.5 }.apply(&mut z, &[4000, 1], &mut rng);
    let s = (z.iter().map(|v| v * v).sum::<f32>() / 4000.0).sqrt();
    assert!((s - 0.5).abs() < 0.03, "{s}");
    // In a loader, transforms are reproducible from the seed.
    let ds = toy(8);
    let run = || -> Vec<f32> {
        let mut l = DataLoader::new(&ds, 8)
            .seed(3)
            .map(GaussianNoise { std: 1.0 });
        l.iter().next().unwrap().inputs.to_vec()
    };
    assert_eq!(run(), run());
    let mut l = DataLoader::new(&ds, 8)
        .map(|x: &mut [f32], _: &[usize], _: &mut edgegrad::autograd::Rng| x[0] = -1.0);
    assert_eq!(l.iter().next().unwrap().inputs.to_vec()[2], -1.0);
}

#[test]
fn splits_and_folds() {
    let (tr, va) = train_val_split(100, 0.2, 1);
    assert_eq!((tr.len(), va.len()), (80, 20));
    let mut all: Vec<usize> = tr.iter().chain(&va).copied().collect();
    all.sort();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(train_val_split(100, 0.2, 1), (tr, va));
    let folds = kfold(10, 3, 5);
    assert_eq!(folds.len(), 3);
    let mut seen = vec![0; 10];
    for (train, val) in &folds {
        assert_eq!(train.len() + val.len(), 10);
        assert!(val.len() == 3 || val.len() == 4);
        val.iter().for_each(|&i| seen[i] += 1);
        assert!(train.iter().all(|i| !val.contains(i)));
    }
    assert_eq!(seen, vec![1; 10]);
    let ds = toy(10);
    let sub = Subset::new(&ds, vec![3, 1]);
    assert_eq!((sub.len(), sub.target(0)), (2, Target::Class(0)));
    let mut x = [0.0; 2];
    sub.input_into(1, &mut x);
    assert_eq!(x, [2.0, 3.0]);
    assert_eq!(ds.select(&[3, 1]).inputs(), [6.0, 7.0, 2.0, 3.0]);
}

#[test]
fn standardisation_fits_on_training_data() {
    let mut ds =
        VecDataset::classification(vec![1.0, 10.0, 3.0, 20.0, 5.0, 30.0], &[2], &[0, 1, 0]);
    let s = Standardizer::fit(&ds, true);
    assert_eq!(s.mean, [3.0, 20.0]);
    assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-5);
    s.transform(&mut ds);
    let x = ds.inputs();
    assert!((x[0] + x[2] + x[4]).abs() < 1e-5 && (x[1] + x[3] + x[5]).abs() < 1e-5);
    let g = Standardizer::fit(&ds, false);
    assert_eq!(g.mean.len(), 1);
}
