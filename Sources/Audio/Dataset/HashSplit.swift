import CCrypto

/// TensorFlow speech_commands' `which_set` (`input_data.py`): the split of a file in a folder
/// without list files, from a hash of its speaker id, so that a speaker's clips stay in one split
/// and the split of a file never changes when files are added.
///
///     hash_name = basename with "_nohash_…" removed          ("00001000_nohash_0.wav" → "00001000")
///     p = (int(sha1(hash_name), 16) mod 2²⁷) · 100 / (2²⁷ − 1)
///     validation if p < validation %, testing if p < validation % + testing %, else training
public func speechCommandsSplit(path: String, validationPercentage: Double, testingPercentage: Double) -> DatasetSplit {
    let percentage = speechCommandsHashPercentage(path: path)
    if percentage < validationPercentage { return .validation }
    if percentage < validationPercentage + testingPercentage { return .testing }
    return .training
}

/// The `percentage_hash` of `which_set` for `path`, in [0, 100].
public func speechCommandsHashPercentage(path: String) -> Double {
    let base = path.split(separator: "/").last.map(String.init) ?? path
    let name = base.range(of: "_nohash_").map { String(base[..<$0.lowerBound]) } ?? base
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let bytes = Array(name.utf8)
    let ok = bytes.withUnsafeBufferPointer { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha1(), nil) }
    precondition(ok == 1 && length == 20, "libcrypto's SHA-1 failed")
    // The digest as a 160-bit big-endian number, modulo 2²⁷: its last 27 bits.
    let low = UInt32(digest[16]) << 24 | UInt32(digest[17]) << 16 | UInt32(digest[18]) << 8 | UInt32(digest[19])
    let maxWavsPerClass = Double((1 << 27) - 1)
    return Double(low & ((1 << 27) - 1)) * (100 / maxWavsPerClass)
}
