# Lab 2: fit a straight line y = W*x + b with plain gradient descent
import summaries as tf

tf.set_random_seed(777)  # same starting W and b on every run

# three points on the line y = x
x_train = [1, 2, 3]
y_train = [1, 2, 3]

# W and b start random; training should drive them to 1 and 0,
# the exact line through the points above
W = tf.Variable(tf.random_normal([1]), name='weight')
b = tf.Variable(tf.random_normal([1]), name='bias')

# the model's prediction for every x at once
hypothesis = x_train * W + b

# mean squared error between prediction and target
cost = tf.reduce_mean(tf.square(hypothesis - y_train))

# one gradient step per sess.run(train)
optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.01)
train = optimizer.minimize(cost)

# a session runs the graph built above
sess = tf.Session()
# give W and b their random starting values
sess.run(tf.global_variables_initializer())

# print the loss and parameters every 20 steps to watch them converge
for step in range(2001):
    sess.run(train)
    if step % 20 == 0:
        print(step, sess.run(cost), sess.run(W), sess.run(b))

# by the end W is close to 1 and b close to 0
