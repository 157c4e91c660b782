#if canImport(Glibc)
import Glibc
#endif

/// The three splits of a language-modelling corpus as token ids, with the vocabulary.
public struct LanguageCorpus: Sendable {
    public let level: TextLevel
    public let vocabulary: Vocabulary
    public let train: [Int32]
    public let valid: [Int32]
    public let test: [Int32]?
    public let files: [String]

    /// Files of a split in Mikolov's layout under `directory`, checked to exist.
    public static func standardFile(directory: String, level: TextLevel, split: String) throws -> String {
        guard let name = level.standardFileName(split) else {
            throw TextError(file: directory, problem: "the text level has no standard file names; give --train/--valid/--test files")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else { throw TextError(file: directory, problem: "no such directory") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw TextError(file: directory, problem: "not a directory") }
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        guard access(path, F_OK) == 0 else {
            let expected = ["train", "valid", "test"].compactMap { level.standardFileName($0) }.joined(separator: ", ")
            throw TextError(file: directory, problem: "missing \(name): a \(level.rawValue)-level corpus directory holds \(expected) (Mikolov's PTB layout)")
        }
        return path
    }

    /// Reads a corpus in Mikolov's layout (ptb.train.txt … or ptb.char.train.txt …).
    public static func load(directory: String, level: TextLevel) throws -> LanguageCorpus {
        let files = try ["train", "valid", "test"].map { try standardFile(directory: directory, level: level, split: $0) }
        return try load(train: files[0], valid: files[1], test: files[2], level: level)
    }

    /// Reads the given files; the vocabulary is built from all of them (as pytorch/examples does),
    /// ids in order of first appearance. Files are streamed: memory holds the token ids (4 bytes
    /// per token) and the vocabulary, not the text.
    public static func load(train: String, valid: String, test: String?, level: TextLevel) throws -> LanguageCorpus {
        let paths = [train, valid] + (test.map { [$0] } ?? [])
        var tokens: [String] = []
        var index: [String: Int32] = [:]
        let ids = try paths.map { path -> [Int32] in
            var out: [Int32] = []
            try forEachToken(inFile: path, level: level) { token in
                if let id = index[token] { out.append(id); return }
                let id = Int32(tokens.count)
                index[token] = id
                tokens.append(token)
                out.append(id)
            }
            guard out.count >= 2 else { throw TextError(file: path, problem: "has fewer than 2 tokens") }
            return out
        }
        let vocabulary = try Vocabulary(tokens: tokens)
        guard vocabulary.count >= 2 else { throw TextError(file: train, problem: "the corpus has fewer than 2 distinct tokens") }
        return LanguageCorpus(level: level, vocabulary: vocabulary, train: ids[0], valid: ids[1], test: ids.count > 2 ? ids[2] : nil, files: paths)
    }

    /// Reads one file with an existing vocabulary (evaluation of a trained model), streamed.
    /// Tokens outside the vocabulary become `<unk>` when it has one; otherwise an error says how
    /// many there are, with examples.
    public static func encode(file: String, level: TextLevel, vocabulary: Vocabulary) throws -> [Int32] {
        var out: [Int32] = []
        var missing: [String] = []
        var missingCount = 0
        let unk = vocabulary.unknownID
        try forEachToken(inFile: file, level: level) { token in
            if let id = vocabulary.id(token) ?? unk { out.append(id); return }
            missingCount += 1
            if missing.count < 3 && !missing.contains(token) { missing.append(token) }
        }
        if missingCount > 0 { throw Vocabulary.missingTokensError(file: file, count: missingCount, examples: missing) }
        guard !out.isEmpty else { throw TextError(file: file, problem: "has no tokens") }
        return out
    }
}
