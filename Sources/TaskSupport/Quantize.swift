import Foundation
import LEMModel

/// What `lm quantize` and `kws quantize` share: read a float checkpoint of `kind`, write its
/// int8 form (`Checkpoint.quantizedForInference`) atomically, and say what was saved.
public func quantizeCheckpoint(input: String, output: String?, kind: String) throws {
    let destination = output ?? defaultQuantizedPath(input)
    guard samePath(destination, input) == false else {
        throw ToolError(description: "--output must differ from --checkpoint (the float checkpoint is kept)")
    }
    let checkpoint = try Checkpoint.read(path: input, expectedKind: kind)
    let quantized = try checkpoint.quantizedForInference()
    try quantized.write(to: destination)
    let sizes = [input, destination].map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
    let matrices = quantized.file.names.filter { quantized.file.tensors[$0]?.dtype == .i8 }
    print("\(destination): \(matrices.count) weight matrices as int8 (\(matrices.joined(separator: ", "))), "
          + "\(formatBytes(sizes[1])) (float checkpoint \(formatBytes(sizes[0])))")
    print("run it with `\(kind) \(["lm": "sample", "seq": "eval"][kind] ?? "classify") --checkpoint \(destination) …`: int8 inference is automatic")
}

/// Whether two paths name the same file: the same absolute path once `.`, `..` and symbolic
/// links are resolved, or (both existing) the same device and inode.
package func samePath(_ a: String, _ b: String) -> Bool {
    let resolved = [a, b].map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path }
    if resolved[0] == resolved[1] { return true }
    let ids = [a, b].map { path -> [Int]? in
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let device = attributes[.systemNumber] as? Int, let inode = attributes[.systemFileNumber] as? Int else { return nil }
        return [device, inode]
    }
    return ids[0] != nil && ids[0] == ids[1]
}

/// `model.ckpt` → `model.int8.ckpt` (the extension kept, or `.int8` appended).
package func defaultQuantizedPath(_ path: String) -> String {
    let url = URL(fileURLWithPath: path)
    let ext = url.pathExtension
    guard !ext.isEmpty else { return path + ".int8" }
    return url.deletingPathExtension().path + ".int8." + ext
}

package func formatBytes(_ bytes: Int) -> String {
    bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / 1e6) : String(format: "%.0f kB", Double(bytes) / 1e3)
}
