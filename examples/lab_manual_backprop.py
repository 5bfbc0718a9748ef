# Lab 9: gradient descent without an optimizer: the gradients are written out by hand and applied with tf.assign
import summaries as tf

tf.set_random_seed(777)  # same starting W on every run

# column vectors of inputs and targets on the line y = x
x_data = [[1.],
          [2.],
          [3.]]
y_data = [[1.],
          [2.],
          [3.]]

# both are fed on every run; None leaves the batch size open
X = tf.placeholder(tf.float32, shape=[None, 1])
Y = tf.placeholder(tf.float32, shape=[None, 1])

# deliberately poor start (b = 5) so the updates have work to do
W = tf.Variable(tf.truncated_normal([1, 1]))
b = tf.Variable(5.)

# forward pass: a single linear unit
hypothesis = tf.matmul(X, W) + b

# shapes must agree, else the subtraction would broadcast to a matrix
assert hypothesis.shape.as_list() == Y.shape.as_list()
diff = (hypothesis - Y)

# hand-derived gradients: the error signal is diff, the chain rule carries it to b and W
d_l1 = diff
d_b = d_l1
d_w = tf.matmul(tf.transpose(X), d_l1)

print(X, W, d_l1, d_w)

# plain gradient descent step, written as two assignments
learning_rate = 0.1
step = [
    tf.assign(W, W - learning_rate * d_w),
    tf.assign(b, b - learning_rate * tf.reduce_mean(d_b)),
]

# mean squared error, printed to show training progress
RMSE = tf.reduce_mean(tf.square((Y - hypothesis)))

sess = tf.InteractiveSession()
init = tf.global_variables_initializer()
sess.run(init)

for i in range(1000):
    print(i, sess.run([step, RMSE], feed_dict={X: x_data, Y: y_data}))

print(hypothesis.eval({X: x_data}))
