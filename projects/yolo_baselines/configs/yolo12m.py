_base_ = ['./_base_/yolo_paper.py']
model = 'yolo12m.yaml'
