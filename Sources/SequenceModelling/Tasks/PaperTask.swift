import Foundation
import LEMModel
import TaskSupport

/// The paper's sequence experiments that `seq` runs with the authors' data pipelines, read from
/// their scripts (tk-rusch/LEM at 833da6b, `src/<task>/`; docs/PAPER.md says what each does):
/// the same pixels, order, noise, splits and generator, rebuilt natively — their random splits and
/// permutation from PyTorch's and NumPy's generators (`MersenneTwister`), their ODE data with
/// SciPy's RK45 (`DormandPrince45`).
package enum PaperTask: String, CaseIterable, Sendable, Codable {
    case smnist, psmnist, ncifar, eigenworms
    case heartRate = "heart-rate"
    case fhn

    package var title: String {
        switch self {
        case .smnist: return "sequential MNIST"
        case .psmnist: return "permuted sequential MNIST"
        case .ncifar: return "noisy CIFAR-10"
        case .eigenworms: return "EigenWorms"
        case .heartRate: return "heart rate (BIDMC32HR)"
        case .fhn: return "FitzHugh-Nagumo"
        }
    }

    /// Where `corpora/fetch-*.sh` puts the task's data (FitzHugh-Nagumo's is generated).
    package var defaultData: String? {
        switch self {
        case .smnist, .psmnist: return "corpora/mnist"
        case .ncifar: return "corpora/cifar10"
        case .eigenworms: return "corpora/eigenworms"
        case .heartRate: return "corpora/bidmc32hr"
        case .fhn: return nil
        }
    }

    /// The files a data folder of this task holds.
    package var expectedFiles: String {
        switch self {
        case .smnist, .psmnist: return "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (t10k-* optional: the test set)"
        case .ncifar: return "data_batch_1.bin … data_batch_5.bin (any of them) and optionally test_batch.bin"
        case .eigenworms: return "EigenWorms_TRAIN.ts and EigenWorms_TEST.ts"
        case .heartRate: return "BIDMC32HR_TRAIN.ts and BIDMC32HR_TEST.ts"
        case .fhn: return "train.npz, valid.npz and test.npz (as `seq make-data fhn` writes them)"
        }
    }
}

/// A task's three sets and how they were made.
package struct TaskSplits {
    package var train: SequenceDataset
    package var valid: SequenceDataset
    /// The test set, read only to score the best checkpoint at the end (nil: none in the data).
    package var test: (() throws -> SequenceDataset)?
    /// Where the sets came from, one line each (printed in the run's header).
    package var provenance: [String]
}

extension PaperTask {
    /// The task's sets from the data folder `data` (nil: the default folder; FitzHugh-Nagumo:
    /// generated in memory).
    package func load(data: String?) throws -> TaskSplits {
        switch self {
        case .smnist, .psmnist: return try mnistSplits(folder: data ?? defaultData!)
        case .ncifar: return try noisyCIFARSplits(folder: data ?? defaultData!)
        case .eigenworms: return try eigenWormsSplits(folder: data ?? defaultData!)
        case .heartRate: return try heartRateSplits(folder: data ?? defaultData!)
        case .fhn: return try fhnSplits(folder: data)
        }
    }

    /// PyTorch's generator draws of the authors' model construction before their unseeded
    /// `random_split` (nn.Linear's constructor and `reset_parameters` draw each cell weight and
    /// bias twice, the classifier's constructor once and `kaiming_normal_` once more).
    static func modelInitDraws(inputs m: Int, hidden h: Int, classes c: Int) -> Int {
        let cell = (m * 4 * h + 4 * h) + (h * 3 * h + 3 * h) + (h * h + h)
        return 2 * cell + (h * c + c) + h * c
    }

    /// psMNIST's pixel order: `torch.randperm(784)` right after `torch.manual_seed(5544)`; step t
    /// reads pixel permutation[t].
    package static func psMNISTPermutation() -> [Int] {
        var torch = TorchGenerator(seed: 5544)
        return torch.randperm(784)
    }

    private func file(_ folder: String, _ names: [String]) -> String? {
        names.map { (folder as NSString).appendingPathComponent($0) }.first { FileManager.default.fileExists(atPath: $0) }
    }

    private func missing(_ folder: String) -> SettingsError {
        var hint = ""
        if let script = fetchScript { hint = " (\(script) downloads it)" }
        return SettingsError("\(folder): expected \(expectedFiles) for --task \(rawValue)\(hint)")
    }

    package var fetchScript: String? {
        switch self {
        case .smnist, .psmnist: return "corpora/fetch-mnist.sh"
        case .ncifar: return "corpora/fetch-cifar10.sh"
        case .eigenworms: return "corpora/fetch-eigenworms.sh"
        case .heartRate: return "corpora/fetch-bidmc32hr.sh"
        case .fhn: return nil
        }
    }

    // MARK: MNIST

    private func readMNIST(_ folder: String, prefix: String) throws -> SequenceDataset? {
        guard let images = file(folder, ["\(prefix)-images-idx3-ubyte", "\(prefix)-images-idx3-ubyte.gz", "\(prefix)-images.idx3-ubyte"]),
              let labels = file(folder, ["\(prefix)-labels-idx1-ubyte", "\(prefix)-labels-idx1-ubyte.gz", "\(prefix)-labels.idx1-ubyte"]) else { return nil }
        var set = try mnistSequences(images: IDXArray(path: images), labels: IDXArray(path: labels), imagesSource: images, labelsSource: labels)
        if self == .psmnist {
            let permutation = Self.psMNISTPermutation()
            guard set.steps == permutation.count else { throw SequenceDataError(images, "images of \(set.steps) pixels; psMNIST permutes 784 (28 × 28)") }
            var permuted = set.values
            for i in 0..<set.count { for t in 0..<784 { permuted[i * 784 + t] = set.values[i * 784 + permutation[t]] } }
            set.values = permuted
        }
        return set
    }

    /// The authors' `random_split(train, [57000, 3000])`: unseeded, so it is `randperm(60000)` on
    /// the global generator after `manual_seed(5544)`, psMNIST's permutation and the model's
    /// construction — the first 57,000 indices train, the last 3,000 validate.
    private func mnistSplits(folder: String) throws -> TaskSplits {
        guard let all = try readMNIST(folder, prefix: "train") else { throw missing(folder) }
        var torch = TorchGenerator(seed: 5544)
        if self == .psmnist { _ = torch.randperm(784) }
        torch.engine.discard(Self.modelInitDraws(inputs: 1, hidden: 128, classes: 10))
        let order = torch.randperm(all.count)
        let validCount = all.count == 60000 ? 3000 : max(1, all.count / 20)
        let provenance = [
            "data: \(folder): \(all.count) training images as \(all.steps) × 1 pixel sequences in [0, 1]" + (self == .psmnist ? ", permuted by torch.randperm(784) after manual_seed(5544)" : ""),
            all.count == 60000 ? "split: the authors' random_split 57,000 / 3,000 (torch.randperm(60000) after seed 5544 and their model's construction)"
                               : "split: \(all.count - validCount) / \(validCount) by torch.randperm(\(all.count)) after seed 5544 (not the full 60,000 images: not the authors' split)",
        ]
        let testFolder = folder
        let hasTest = file(folder, ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-images.idx3-ubyte"]) != nil
        return TaskSplits(train: all.subset(Array(order[..<(all.count - validCount)])), valid: all.subset(Array(order[(all.count - validCount)...])),
                          test: hasTest ? { try readMNIST(testFolder, prefix: "t10k")! } : nil, provenance: provenance)
    }

    // MARK: noisy CIFAR-10

    /// The authors' noisy CIFAR-10: each image's 32 rows (R, G, B segments, in [0, 1]), then the
    /// same 968 steps of N(0, 1) noise for every image — `torch.randn(1, 968, 96)` drawn after the
    /// unseeded `random_split(train, [48000, 2000])` (`randperm(50000)` after `manual_seed(5544)`
    /// and the model's construction). With some of the five training batches missing, the images
    /// present keep the sets the full split gives them.
    private func noisyCIFARSplits(folder: String) throws -> TaskSplits {
        var parts: [SequenceDataset] = [], offsets: [Int] = [], names: [String] = []
        for k in 1...5 {
            guard let path = file(folder, ["data_batch_\(k).bin"]) else { continue }
            parts.append(try CIFAR10Batch(path: path).rowSequences())
            offsets.append((k - 1) * 10000)
            names.append("data_batch_\(k)")
            // A batch of fewer images (a sample) keeps the first ones' places in the split.
            guard parts.last!.count <= 10000 else { throw SequenceDataError(path, "\(parts.last!.count) images; a CIFAR-10 training batch holds 10,000") }
        }
        guard !parts.isEmpty else { throw missing(folder) }
        var torch = TorchGenerator(seed: 5544)
        torch.engine.discard(Self.modelInitDraws(inputs: 96, hidden: 128, classes: 10))
        let order = torch.randperm(50000)
        let noise = torch.randn(968 * 96)
        // Position in the pooled batches present, for each of the 50,000 indices.
        var position = [Int?](repeating: nil, count: 50000)
        var pooledStart = 0
        for (p, offset) in offsets.enumerated() {
            for i in 0..<parts[p].count { position[offset + i] = pooledStart + i }
            pooledStart += parts[p].count
        }
        let pooled = parts.count == 1 ? parts[0] : concatenate(parts)
        let train = order[..<48000].compactMap { position[$0] }, valid = order[48000...].compactMap { position[$0] }
        let testPath = file(folder, ["test_batch.bin"])
        return TaskSplits(
            train: pooled.subset(train).appending(sharedSteps: noise), valid: pooled.subset(valid).appending(sharedSteps: noise),
            test: testPath.map { path in { try CIFAR10Batch(path: path).rowSequences().appending(sharedSteps: noise) } },
            provenance: [
                "data: \(folder): \(names.joined(separator: ", ")) (\(pooled.count) of 50,000 training images) as 32 rows of 96 values, then 968 steps of one fixed N(0, 1) noise tensor: 1,000 × 96",
                "split: the authors' random_split 48,000 / 2,000 (torch.randperm(50000) after seed 5544 and their model's construction)" + (parts.count < 5 ? ", restricted to the images present: \(train.count) / \(valid.count)" : ""),
            ])
    }

    // MARK: EigenWorms and heart rate

    private func pooledTS(_ folder: String, _ problem: String) throws -> (SequenceDataset, Int, Int) {
        guard let trainPath = file(folder, ["\(problem)_TRAIN.ts"]), let testPath = file(folder, ["\(problem)_TEST.ts"]) else { throw missing(folder) }
        let train = try readTSFile(path: trainPath)
        let test = try readSequenceFile(testPath, classNames: train.classNames)
        guard test.steps == train.steps, test.features == train.features, (test.regressionShape == nil) == (train.regressionShape == nil) else {
            throw SequenceDataError(testPath, "its series (\(test.steps) × \(test.features)) do not match \(trainPath)'s (\(train.steps) × \(train.features))")
        }
        return (concatenate([train, test]), train.count, test.count)
    }

    /// The authors' EigenWorms: the archive's TRAIN and TEST series pooled (259 × 17,984 × 6,
    /// unnormalised), then scikit-learn's `train_test_split(test_size=0.3, random_state=1234)`
    /// and the held-out 30 % split again in halves with the same seed: 181 / 39 / 39.
    private func eigenWormsSplits(folder: String) throws -> TaskSplits {
        let (all, nTrain, nTest) = try pooledTS(folder, "EigenWorms")
        guard all.regressionShape == nil else { throw SettingsError("\(folder): EigenWorms_TRAIN.ts has regression targets, not classes") }
        let (train, heldOut) = scikitTrainTestSplit(all.count, testFraction: 0.3, seed: 1234)
        let (validPart, testPart) = scikitTrainTestSplit(heldOut.count, testFraction: 0.5, seed: 1234)
        let valid = validPart.map { heldOut[$0] }, test = testPart.map { heldOut[$0] }
        return TaskSplits(train: all.subset(train), valid: all.subset(valid), test: { all.subset(test) }, provenance: [
            "data: \(folder): EigenWorms_TRAIN.ts (\(nTrain)) and EigenWorms_TEST.ts (\(nTest)) pooled: \(all.count) series of \(all.steps) × \(all.features), \(all.classNames?.count ?? 0) classes, unnormalised",
            "split: the authors' train_test_split(test_size=0.3, random_state=1234), then the 30 % halved with the same seed: \(train.count) / \(valid.count) / \(test.count)",
        ])
    }

    /// The authors' heart rate: BIDMC32HR's TRAIN and TEST series pooled (7,949 × 4,000 × 2,
    /// unnormalised), `random_split([5565, 2384])` with a generator seeded 123456, and the 2,384
    /// split again with a fresh generator of the same seed into test (first 1,192) and valid.
    private func heartRateSplits(folder: String) throws -> TaskSplits {
        let (all, nTrain, nTest) = try pooledTS(folder, "BIDMC32HR")
        guard all.regressionShape != nil else { throw SettingsError("\(folder): BIDMC32HR_TRAIN.ts has classes, not regression targets") }
        var first = TorchGenerator(seed: 123456), second = TorchGenerator(seed: 123456)
        let trainCount = Int((Double(all.count) * 5565 / 7949).rounded())
        let order = first.randperm(all.count)
        let rest = Array(order[trainCount...])
        let half = second.randperm(rest.count)
        let testCount = rest.count / 2
        let test = half[..<testCount].map { rest[$0] }, valid = half[testCount...].map { rest[$0] }
        return TaskSplits(train: all.subset(Array(order[..<trainCount])), valid: all.subset(valid), test: { all.subset(test) }, provenance: [
            "data: \(folder): BIDMC32HR_TRAIN.ts (\(nTrain)) and BIDMC32HR_TEST.ts (\(nTest)) pooled: \(all.count) series of \(all.steps) × \(all.features), unnormalised",
            "split: the authors' random_split with generators seeded 123456: \(trainCount) train / \(valid.count) valid / \(test.count) test" + (all.count == 7949 ? "" : " (not the 7,949 series of the archive: not the authors' split)"),
        ])
    }

    // MARK: FitzHugh-Nagumo

    private func fhnSplits(folder: String?) throws -> TaskSplits {
        guard let folder else {
            let sets = FitzHughNagumo().authorsSplits()
            return TaskSplits(train: sets.train, valid: sets.valid, test: { sets.test }, provenance: [
                "data: FitzHugh-Nagumo generated as the authors' data.py does (v₀ from NumPy seeded 1234, RK45 rtol 1e-3 atol 1e-6, 1,001 points on [0, 400]): 128 / 128 / 1,024 sequences of 1,000 steps, the next value at every step",
            ])
        }
        func read(_ name: String) throws -> SequenceDataset {
            guard let path = file(folder, [name]) else { throw missing(folder) }
            let set = try readSequenceFile(path, regression: true)
            guard case .stepTargets = set.labels else { throw SequenceDataError(path, "expected targets at every step (y of shape [N, T, 1])") }
            return set
        }
        let train = try read("train.npz"), valid = try read("valid.npz")
        let hasTest = file(folder, ["test.npz"]) != nil
        return TaskSplits(train: train, valid: valid, test: hasTest ? { try read("test.npz") } : nil, provenance: [
            "data: \(folder): train.npz (\(train.count)), valid.npz (\(valid.count))\(hasTest ? ", test.npz" : ""): \(train.steps) steps, the next value at every step",
        ])
    }
}

/// The sequences of `parts` one after another (same shape and labels kind; no suffix).
func concatenate(_ parts: [SequenceDataset]) -> SequenceDataset {
    let first = parts[0]
    let values = parts.flatMap(\.values)
    let count = parts.reduce(0) { $0 + $1.count }
    let labels: SequenceDataset.Labels
    switch first.labels {
    case let .classes(_, classCount):
        labels = .classes(parts.flatMap { if case let .classes(c, _) = $0.labels { return c } else { return [] } },
                          classCount: parts.map { if case let .classes(_, n) = $0.labels { return n } else { return 0 } }.max() ?? classCount)
    case let .targets(_, width): labels = .targets(parts.flatMap(\.allTargets), width: width)
    case let .stepTargets(_, width): labels = .stepTargets(parts.flatMap(\.allTargets), width: width)
    }
    return SequenceDataset(count: count, steps: first.steps, features: first.features, values: values, labels: labels, classNames: first.classNames)
}

/// One of a task's three sets.
package enum TaskSplitName: String, CaseIterable, Sendable {
    case train, valid, test
}
