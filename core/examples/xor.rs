use microtrain::{storage_for, Activation, Adam, Dense, Loss, Storage, Target, Trainer};
const LAYERS: [Dense; 2] = [
    Dense::new(2, 4, Activation::Tanh),
    Dense::new(4, 1, Activation::Sigmoid),
];
const OPT: Adam = Adam::new(0.05);
fn main() {
    let mut storage: storage_for!(&LAYERS, OPT) = Storage::new();
    let mut net = Trainer::new(&LAYERS, storage.buffers(), OPT, Loss::BinaryCrossEntropy).unwrap();
    net.init_params(7);
    let xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let ys = [0.0, 1.0, 1.0, 0.0];
    for step in 0..2000 {
        let i = step % 4;
        let l = net.train_sample(&xs[i], Target::Values(&[ys[i]])).unwrap();
        if step % 200 == 0 {
            println!("{step} {l}");
        }
    }
    for x in xs {
        let mut out = [0.0];
        net.predict(&x, &mut out).unwrap();
        println!("{x:?} {out:?}");
    }
}
