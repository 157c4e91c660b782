/// Name and shape of one parameter tensor, and where it lives in the block.
public struct TensorSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// A view of one parameter tensor: its values and its gradient, both inside a `ParameterBlock`.
public struct Parameter: @unchecked Sendable {
    public let value: UnsafeMutablePointer<Float>
    public let grad: UnsafeMutablePointer<Float>
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
}

/// All trainable tensors of a model in one contiguous block (llm.c style), with the gradients in a
/// second block of the same layout: optimiser steps, weight decay, gradient clipping and
/// checkpointing are single loops over `count` floats, and a tensor is an offset into the block.
///
/// Layers declare their tensors with `LayoutBuilder`, the model allocates one block, and each layer
/// then takes `Parameter` views by name. Gradients are accumulated by backward passes (`+=`) and
/// cleared with `zeroGrads()`.
public final class ParameterBlock: @unchecked Sendable {
    public let specs: [TensorSpec]
    public let count: Int
    private let storage: FloatBuffer
    private let gradStorage: FloatBuffer
    private let index: [String: Int]

    public var values: UnsafeMutablePointer<Float> { storage.pointer }
    public var grads: UnsafeMutablePointer<Float> { gradStorage.pointer }

    public init(_ layout: LayoutBuilder) {
        var specs: [TensorSpec] = []
        var offset = 0
        for (name, shape) in layout.entries {
            specs.append(TensorSpec(name: name, shape: shape, offset: offset))
            // Keep every tensor 16-float (64-byte) aligned for the vector loops.
            offset += (shape.reduce(1, *) + 15) / 16 * 16
        }
        self.specs = specs
        self.count = offset
        storage = FloatBuffer(count: offset)
        gradStorage = FloatBuffer(count: offset)
        index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// A block that shares this block's values but has gradients of its own: a model replica for
    /// data-parallel training builds its layers on it, runs its part of the batch, and its
    /// gradients are then added into the main block (`accumulateGradients`).
    public init(sharingValuesWith other: ParameterBlock) {
        specs = other.specs
        count = other.count
        storage = other.storage
        gradStorage = FloatBuffer(count: other.count)
        index = other.index
    }

    /// grads = Σ_i weights[i] · blocks[i].grads, over blocks sharing this block's layout
    /// (this block may be one of them).
    public func combineGradients(_ blocks: [ParameterBlock], weights: [Float]) {
        precondition(blocks.count == weights.count && blocks.allSatisfy { $0.specs == specs }, "layouts differ")
        let out = grads
        let first = blocks[0].grads, w0 = weights[0]
        for i in 0..<count { out[i] = w0 * first[i] }
        for (block, w) in zip(blocks.dropFirst(), weights.dropFirst()) {
            let g = block.grads
            for i in 0..<count { out[i] += w * g[i] }
        }
    }

    public func spec(_ name: String) -> TensorSpec? { index[name].map { specs[$0] } }

    /// The view of tensor `name`; a missing name is a programming error in a model definition.
    public func parameter(_ name: String) -> Parameter {
        guard let s = spec(name) else { preconditionFailure("no parameter named \(name)") }
        return Parameter(value: values + s.offset, grad: grads + s.offset, shape: s.shape)
    }

    /// Number of trainable scalars (without alignment padding).
    public var scalarCount: Int { specs.reduce(0) { $0 + $1.count } }

    public func zeroGrads() { gradStorage.zero() }
}

/// Collects `(name, shape)` pairs in declaration order; names must be unique.
public struct LayoutBuilder: Sendable {
    public private(set) var entries: [(String, [Int])] = []
    public init() {}
    public mutating func add(_ name: String, _ shape: [Int]) {
        precondition(!entries.contains { $0.0 == name }, "parameter \(name) declared twice")
        precondition(shape.allSatisfy { $0 > 0 }, "parameter \(name) has an empty dimension")
        entries.append((name, shape))
    }
}
