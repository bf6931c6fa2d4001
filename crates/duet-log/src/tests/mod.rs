mod convergence;
mod keys;
mod rejections;
