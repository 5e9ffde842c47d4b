// Every kernel we have, by name. Import only the ones you need and add them to an OpResolver; nothing here
// registers itself.
export { Add } from '../ops/add.js';
export { AveragePool2D, MaxPool2D } from '../ops/pooling.js';
export { Concatenation } from '../ops/concatenation.js';
export { Conv2D } from '../ops/conv2d.js';
export { DepthwiseConv2D } from '../ops/depthwise-conv2d.js';
export { Dequantize } from '../ops/dequantize.js';
export { FullyConnected } from '../ops/fully-connected.js';
export { HardSwish } from '../ops/hard-swish.js';
export { Logistic } from '../ops/logistic.js';
export { Mean } from '../ops/mean.js';
export { Mul } from '../ops/mul.js';
export { Pad } from '../ops/pad.js';
export { Quantize } from '../ops/quantize.js';
export { Relu, Relu6 } from '../ops/relu.js';
export { Reshape } from '../ops/reshape.js';
export { Softmax } from '../ops/softmax.js';
export { Split } from '../ops/split.js';
export { Squeeze } from '../ops/squeeze.js';
export { Sub } from '../ops/sub.js';
export { Transpose } from '../ops/transpose.js';
