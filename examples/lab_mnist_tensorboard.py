# Lab 9: an MNIST MLP that logs for TensorBoard: input images, per-layer histograms and the loss
# board --logdir ./logs/mnist
import os

import mnist_data as input_data  # our loader, used where TF1 had its tutorials' MNIST module
import summaries as tf

tf.set_random_seed(777)  # same initial weights on every run

mnist = input_data.read_data_sets(input_data.data_dir("MNIST_data/"), one_hot=True)

# LAB_EPOCHS lets the tests run a shorter schedule
learning_rate = 0.001
training_epochs = int(os.environ.get("LAB_EPOCHS", "15"))
batch_size = 100

TB_SUMMARY_DIR = './logs/mnist'

# flat 784-pixel images and one-hot labels, fed per batch
X = tf.placeholder(tf.float32, [None, 784], name='X')
Y = tf.placeholder(tf.float32, [None, 10], name='Y')

# back to 28x28 images so a few inputs can be shown in the images tab
x_image = tf.reshape(X, [-1, 28, 28, 1])
tf.summary.image('input', x_image, 3)

# fraction of units kept by dropout: below 1 while training, exactly 1 when evaluating
keep_prob = tf.placeholder(tf.float32, name='keep_prob')

tf.summary.histogram("X", X)

# three dense layers, Xavier-initialised weights
# (Xavier keeps the activation scale steady from layer to layer)
with tf.variable_scope('layer1') as scope:
    W1 = tf.get_variable("W", shape=[784, 512], initializer=tf.contrib.layers.xavier_initializer())
    b1 = tf.Variable(tf.random_normal([512]), name='bias')
    L1 = tf.nn.relu(tf.matmul(X, W1) + b1)
    L1 = tf.nn.dropout(L1, keep_prob=keep_prob)

    tf.summary.histogram("weights", W1)
    tf.summary.histogram("bias", b1)
    tf.summary.histogram("layer", L1)

with tf.variable_scope('layer2') as scope:
    W2 = tf.get_variable("W", shape=[512, 512], initializer=tf.contrib.layers.xavier_initializer())
    b2 = tf.Variable(tf.random_normal([512]), name='bias')
    L2 = tf.nn.relu(tf.matmul(L1, W2) + b2)
    L2 = tf.nn.dropout(L2, keep_prob=keep_prob)

    tf.summary.histogram("weights", W2)
    tf.summary.histogram("bias", b2)
    tf.summary.histogram("layer", L2)

with tf.variable_scope('layer3') as scope:
    W3 = tf.get_variable("W", shape=[512, 10], initializer=tf.contrib.layers.xavier_initializer())
    b3 = tf.Variable(tf.random_normal([10]), name='bias')
    hypothesis = tf.matmul(L2, W3) + b3

    tf.summary.histogram("weights", W3)
    tf.summary.histogram("bias", b3)
    tf.summary.histogram("layer", hypothesis)

# softmax cross-entropy on the raw scores, minimised with Adam
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=hypothesis, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)
tf.summary.scalar("loss", cost)

# one op that evaluates every summary defined above
summary = tf.summary.merge_all()

# session and random starting weights
sess = tf.Session()
sess.run(tf.global_variables_initializer())

# event file writer; the graph goes in once, up front
writer = tf.summary.FileWriter(TB_SUMMARY_DIR)
writer.add_graph(sess.graph)
global_step = 0

print('Start learning!')

# summaries only every 10th step keeps the log small
for epoch in range(training_epochs):
    avg_cost = 0
    total_batch = int(mnist.train.num_examples / batch_size)

    for i in range(total_batch):
        batch_xs, batch_ys = mnist.train.next_batch(batch_size)
        feed_dict = {X: batch_xs, Y: batch_ys, keep_prob: 0.7}
        if global_step % 10 == 0:
            s, c, _ = sess.run([summary, cost, optimizer], feed_dict=feed_dict)
            writer.add_summary(s, global_step=global_step)
        else:
            c, _ = sess.run([cost, optimizer], feed_dict=feed_dict)
        global_step += 1

        avg_cost += c / total_batch

    print('Epoch:', '%04d' % (epoch + 1), 'cost =', '{:.9f}'.format(avg_cost))

writer.close()
print('Learning Finished!')

# test-set accuracy with dropout off
correct_prediction = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
print('Accuracy:', sess.run(accuracy, feed_dict={X: mnist.test.images, Y: mnist.test.labels, keep_prob: 1}))
