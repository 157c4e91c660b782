import Audio
import Foundation

/// Speech Commands list files from untrusted bytes: the input is split at the first 0xFF byte into
/// validation_list.txt and testing_list.txt of a small real tree (made once per process), and
/// the dataset index is built as `kws train` builds it.
enum Scratch {
    static let root = "/dev/shm/lem-fuzz-lists-\(getpid())"
    /// Made once per process, on first use.
    static let tree: Void = makeTree()
}

func makeTree() {
    let root = Scratch.root
    let fm = FileManager.default
    for (folder, count) in [("yes", 3), ("no", 2), ("bed", 2), ("_background_noise_", 1)] {
        try! fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        for i in 0..<count {
            try! writeWAV(path: "\(root)/\(folder)/\(String(format: "%08x", i))_nohash_\(i).wav",
                          samples: [Float](repeating: 0.01, count: 1600), sampleRate: 16000)
        }
    }
}
func fuzzOne(_ bytes: [UInt8]) {
    _ = Scratch.tree
    let root = Scratch.root
    let split = bytes.firstIndex(of: 0xFF) ?? bytes.count
    FileManager.default.createFile(atPath: root + "/validation_list.txt", contents: Data(bytes[..<split]))
    FileManager.default.createFile(atPath: root + "/testing_list.txt", contents: Data(split < bytes.count ? bytes[(split + 1)...] : []))
    if let dataset = try? SpeechCommands(root: root) {
        for s in DatasetSplit.allCases { _ = dataset.examples(s) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzListFiles_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}
